// Forward values and input gradients of composite ops against PyTorch (float64, computed by
// fixtures/make-torch-ops.py): catches semantic differences finite differences cannot, such as
// how label smoothing or ignored targets enter the mean.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createJsBackend, FUSED_KERNELS, registerBackend } from '../backend-api.js';
import * as t from '../index.js';

const file = fileURLToPath(new URL('../../fixtures/torch-ops.safetensors', import.meta.url));
const fixtures = t.readSafetensors(new Uint8Array(readFileSync(file)));

const ops: Record<string, (inputs: t.Tensor[], targets: t.Tensor) => t.Tensor> = {
  gelu: ([x]) => t.gelu(x),
  gelu_tanh: ([x]) => t.gelu(x, { approximate: 'tanh' }),
  silu: ([x]) => t.silu(x),
  log_softmax: ([x]) => t.logSoftmax(x),
  layer_norm: ([x, w, b]) => t.layerNorm(x, w, b, { epsilon: 1e-5 }),
  cross_entropy: ([x], targets) =>
    t.crossEntropy(x, targets, { ignoreIndex: -100, labelSmoothing: 0.1 }),
  attention_causal: ([q, k, v]) => t.scaledDotProductAttention(q, k, v, { causal: true }),
};

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i] - expected[i])).toBeLessThan(1e-10);
}

for (const backend of ['js', 'js-composed']) {
  describe(`PyTorch parity on ${backend}`, () => {
    registerBackend('js-composed', () =>
      createJsBackend({ name: 'js-composed', withoutKernels: FUSED_KERNELS }),
    );
    for (const [name, fn] of Object.entries(ops)) {
      it(name, async () => {
        const count = Object.keys(fixtures).filter((k) => k.startsWith(`${name}.input`)).length;
        const inputs = await Promise.all(
          Array.from({ length: count }, (_, i) => fixtures[`${name}.input${i}`].toBackend(backend)),
        );
        for (const x of inputs) x.requiresGrad_();
        const y = fn(inputs, await fixtures['cross_entropy.targets'].toBackend(backend));
        const expected = fixtures[`${name}.output`];
        expect(y.shape).toEqual(expected.shape);
        expectClose(await y.data<Float64Array>(), await expected.data<Float64Array>());
        // The same weighting of the output as the fixture script: linspace(0.5, 1.5, n).
        const n = y.size;
        const weights = t.tensor(
          Array.from({ length: n }, (_, i) => (n === 1 ? 0.5 : 0.5 + i / (n - 1))),
          { shape: y.shape, dtype: 'float64', backend },
        );
        t.sum(t.mul(y, weights)).backward();
        for (let i = 0; i < count; i++)
          expectClose(
            await inputs[i].grad!.data<Float64Array>(),
            await fixtures[`${name}.grad${i}`].data<Float64Array>(),
          );
      });
    }
  });
}
