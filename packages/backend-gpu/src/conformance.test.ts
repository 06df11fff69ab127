// core-tensor's backend conformance suite (every kernel against the js reference) on webgpu.
import { describeConformance } from '@llmkit/core-tensor/testing';
import { describe, it } from 'vitest';
import { testBackend } from './test-support/harness.js';

const backend = await testBackend();
if (typeof backend === 'string') {
  describe.skip(`conformance of backend 'webgpu': ${backend}`, () => {
    it('needs a WebGPU adapter', () => {});
  });
} else {
  describeConformance(backend, { describe, it });
}
