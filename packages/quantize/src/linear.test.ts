import {
  fromValues,
  Generator,
  gradcheck,
  Linear,
  manualSeed,
  noGrad,
  randn,
  setBackend,
  type Tensor,
} from '@llmkit/core-tensor';
import { createJsBackend, registerBackend } from '@llmkit/core-tensor/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { dequantizeWeight, quantizeWeight } from './formats/index.js';
import type { QuantizeOptions } from './formats/types.js';
import { roundTripActivations } from './kernel.js';
import { QuantizedLinear } from './linear.js';

const FORMATS: QuantizeOptions[] = [
  { format: 'fp16' },
  { format: 'bf16' },
  { format: 'int8' },
  { format: 'int4', groupSize: 32 },
  { format: 'int4', groupSize: 64, symmetric: false },
  { format: 'int4', groupSize: 128 },
  { format: 'nf4' },
  { format: 'nf4', doubleQuantization: true },
  { format: 'q8_0' },
  { format: 'q4_0' },
];
const name = (o: QuantizeOptions) =>
  `${o.format}${o.groupSize ? ` g${o.groupSize}` : ''}${o.symmetric === false ? ' asymmetric' : ''}${o.doubleQuantization ? ' double' : ''}`;

function weights(rows: number, columns: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: rows * columns }, () => g.nextNormal() * 0.05);
}

/** x W^T in float64 from the package's own dequantizer (independent of the kernel's decoder). */
function reference(
  x: Float32Array,
  w: Float32Array,
  M: number,
  N: number,
  K: number,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      out[m * N + n] = acc;
    }
  return out;
}

beforeAll(() => {
  registerBackend('js-no-quantized', () =>
    createJsBackend({ name: 'js-no-quantized', withoutKernels: ['quantizedMatmul'] }),
  );
});

describe('QuantizedLinear', () => {
  for (const options of FORMATS) {
    it(`${name(options)}: the kernel equals x @ dequantize(W)^T, with and without the kernel`, async () => {
      const [M, N, K] = [3, 10, 256];
      const w = weights(N, K, 5);
      const packed = quantizeWeight(w, [N, K], { ...options, activations: 'float32' });
      const expected = reference(weights(M, K, 6), dequantizeWeight(packed), M, N, K);
      for (const backend of ['js', 'js-no-quantized']) {
        const layer = new QuantizedLinear(packed, { backend });
        const x = fromValues(weights(M, K, 6), [M, K], { backend });
        const y = await noGrad(() => layer.forward(x)).data<Float32Array>();
        for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(expected[i], 5);
      }
    });
  }

  for (const options of [
    { format: 'int8' },
    { format: 'int4', groupSize: 64 },
    { format: 'q8_0' },
    { format: 'q4_0' },
  ] as QuantizeOptions[]) {
    it(`${name(options)} with 8-bit activations: x rounded per 32 as Q8_0, then x' @ dequantize(W)^T`, async () => {
      const [M, N, K] = [3, 10, 256];
      const packed = quantizeWeight(weights(N, K, 5), [N, K], { ...options, activations: 'int8' });
      const x = weights(M, K, 6);
      x[7] = 1.5; // an outlier sets its block's scale
      const rounded = roundTripActivations(x, K);
      const expected = reference(rounded, dequantizeWeight(packed), M, N, K);
      const float = reference(x, dequantizeWeight(packed), M, N, K);
      expect(Math.max(...expected.map((e, i) => Math.abs(e - float[i])))).toBeGreaterThan(1e-4);
      for (const backend of ['js', 'js-no-quantized']) {
        const layer = new QuantizedLinear(packed, { backend });
        const input = fromValues(x, [M, K], { backend });
        const y = await noGrad(() => layer.forward(input)).data<Float32Array>();
        for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(expected[i], 6);
      }
    });
  }

  it('8-bit activations: the input gradient is the float product’s (straight through)', async () => {
    const [N, K] = [5, 64];
    const w = weights(N, K, 9);
    for (const backend of ['js', 'js-no-quantized']) {
      const grads = [];
      for (const activations of ['int8', 'float32'] as const) {
        const layer = new QuantizedLinear(
          quantizeWeight(w, [N, K], { format: 'q8_0', activations }),
          { backend },
        );
        const x = fromValues(weights(3, K, 10), [3, K], { backend, requiresGrad: true });
        layer.forward(x).sum().backward();
        grads.push(await (x.grad as Tensor).data<Float32Array>());
      }
      expect(Array.from(grads[0])).toEqual(Array.from(grads[1]));
    }
  });

  it('rejects 8-bit activations for a format or width they do not take', () => {
    expect(() =>
      quantizeWeight(weights(2, 64, 1), [2, 64], { format: 'nf4', activations: 'int8' }),
    ).toThrow("activations 'int8' takes int8, symmetric int4, q8_0 and q4_0, not 'nf4'");
    expect(() =>
      quantizeWeight(weights(2, 48, 1), [2, 48], { format: 'int8', activations: 'int8' }),
    ).toThrow("activations 'int8' quantize inputs in blocks of 32, but the width is 48");
    expect(() =>
      quantizeWeight(weights(2, 64, 1), [2, 64], { format: 'int8', activations: 'int4' as 'int8' }),
    ).toThrow(/activations/);
  });

  it('keeps the leading dimensions and adds the bias', async () => {
    manualSeed(3);
    const linear = new Linear(64, 8);
    const layer = QuantizedLinear.fromLinear(linear, { format: 'int8' });
    const x = randn([2, 3, 64]);
    const y = noGrad(() => layer.forward(x));
    expect(y.shape).toEqual([2, 3, 8]);
    const float = await noGrad(() => linear.forward(x)).data<Float32Array>();
    const got = await y.data<Float32Array>();
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - float[i])).toBeLessThan(0.03);
    expect(layer.bias).toBe(linear.bias);
  });

  it('is a frozen base: packed weights are buffers, only x and the bias get gradients', () => {
    const linear = new Linear(64, 6);
    const layer = QuantizedLinear.fromLinear(linear, { format: 'q4_0' });
    expect(layer.parameters()).toEqual([linear.bias]);
    expect(Object.keys(layer.stateDict()).sort()).toEqual(['bias', 'weight']);
    const x = randn([4, 64], { requiresGrad: true });
    layer.forward(x).sum().backward();
    expect(x.grad?.shape).toEqual([4, 64]);
    expect(layer.bias?.grad?.shape).toEqual([6]);
  });

  for (const options of [
    { format: 'int4', groupSize: 32 },
    { format: 'nf4' },
    { format: 'q8_0' },
  ] as QuantizeOptions[]) {
    it(`${name(options)}: the input gradient matches finite differences (float64)`, () => {
      const [N, K] = [5, 64];
      // float inputs: the 8-bit activations' forward is a step function of x
      const packed = quantizeWeight(weights(N, K, 9), [N, K], {
        ...options,
        activations: 'float32',
      });
      for (const backend of ['js', 'js-no-quantized']) {
        const layer = new QuantizedLinear(packed, { backend });
        const x = fromValues(weights(3, K, 10), [3, K], { dtype: 'float64', backend });
        const result = gradcheck((input: Tensor) => layer.forward(input).square().sum(), [x]);
        expect(result.ok, JSON.stringify(result.firstMismatch)).toBe(true);
      }
    });
  }

  it('dequantize and toLinear give the float weight back', async () => {
    const linear = new Linear(64, 4, { bias: false });
    const layer = QuantizedLinear.fromLinear(linear, { format: 'bf16' });
    const back = layer.toLinear();
    const a = await linear.weight.data<Float32Array>();
    const b = await back.weight.data<Float32Array>();
    for (let i = 0; i < a.length; i++)
      expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.abs(a[i]) * 2 ** -8);
    expect(back.bias).toBeNull();
  });

  it('rejects an input of the wrong width and a mismatched bias', () => {
    const packed = quantizeWeight(weights(4, 32, 1), [4, 32], { format: 'q8_0' });
    const layer = new QuantizedLinear(packed);
    expect(() => layer.forward(randn([2, 31]))).toThrow(/does not end in inFeatures 32/);
    expect(() => new QuantizedLinear(packed, { bias: randn([5]) })).toThrow(/bias shape \[5\]/);
    expect(() => new QuantizedLinear({ ...packed, parts: { weight: new Uint8Array(3) } })).toThrow(
      /part 'weight' of a 'q8_0' weight \[4,32\] is Uint8Array\(3\), expected Uint8Array\(136\)/,
    );
  });
});

setBackend('js');
