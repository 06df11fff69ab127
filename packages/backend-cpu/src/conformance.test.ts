// core-tensor's backend conformance suite on `cpu` against `js`: every required and fused kernel
// on random inputs (size-0 and size-1 dims, broadcasting, transposed and sliced views, large and
// small magnitudes), once with the AVX2/FMA kernels and once with the portable ones.
import {
  checkConformanceCase,
  conformanceCases,
  describeConformance,
} from '@llmkit/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from './backend.js';
import { nativeKernels } from './native.js';

const native = nativeKernels();

describe('conformance, best kernels for this CPU', () => {
  describeConformance(createCpuBackend(), { describe, it });
});

describe('conformance, portable kernels', () => {
  beforeAll(() => {
    native.forcePortable(true);
  });
  afterAll(() => {
    native.forcePortable(false);
  });
  describeConformance(createCpuBackend(), { describe, it });
});

describe('the conformance run exercises the native kernels', () => {
  it('runs float32 cases natively rather than on the js fallback', async () => {
    const backend = createCpuBackend({ profile: true });
    const cases = conformanceCases(backend, { floatDTypes: ['float32'] });
    for (const c of cases) await checkConformanceCase(backend, c);
    const names = new Set(backend.profile().map((p) => p.kernel));
    for (const kernel of [
      'matmul',
      'copy',
      'unary:exp',
      'unary:gelu',
      'binary:add',
      'binary:mul',
      'reduce:sum',
      'reduce:max',
      'where',
      'gather',
      'softmax',
      'layerNorm',
      'layerNormBackward',
      'crossEntropy',
      'crossEntropyBackward',
      'attention',
      'embeddingBackward',
      'adamw',
    ]) {
      expect(names.has(kernel), kernel).toBe(true);
    }
  });
});
