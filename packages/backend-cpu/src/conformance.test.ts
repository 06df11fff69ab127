// core-tensor's backend conformance suite on `cpu` against `js`: every required and fused kernel
// on random inputs (size-0 and size-1 dims, broadcasting, transposed and sliced views, large and
// small magnitudes), once per instruction-set path this machine runs (portable, avx2, avx512 on
// an AVX-512 server), switched with setCpuIsa as LLMKIT_CPU_ISA would force it.
import {
  checkConformanceCase,
  conformanceCases,
  describeConformance,
} from '@llmkit/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from './backend.js';
import { setCpuIsa, supportedCpuIsas } from './isa.js';

const paths = supportedCpuIsas();

it('the conformance run covers every path this CPU supports', () => {
  expect(paths[0]).toBe('portable');
  if (process.arch === 'x64') expect(paths).toContain('avx2'); // every CI machine has AVX2
});

for (const isa of paths) {
  describe(`conformance, ${isa} kernels`, () => {
    beforeAll(() => {
      expect(setCpuIsa(isa)).toBe(isa);
    });
    afterAll(() => {
      setCpuIsa('default');
    });
    describeConformance(createCpuBackend(), { describe, it });
  });
}

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
