import '@llmkit/backend-cpu/register';
import {
  Embedding,
  fromValues,
  Generator,
  getBackend,
  noGrad,
  setBackend,
} from '@llmkit/core-tensor';
import { createJsBackend, registerBackend } from '@llmkit/core-tensor/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { QuantizedEmbedding } from './embedding.js';
import { dequantizeWeight, quantizeWeight } from './formats/index.js';
import { roundTripActivations } from './kernel.js';
import type { QuantizeOptions } from './formats/types.js';

const FORMATS: QuantizeOptions[] = [
  { format: 'fp16' },
  { format: 'bf16' },
  { format: 'int8' },
  { format: 'int4', groupSize: 32 },
  { format: 'int4', groupSize: 64, symmetric: false },
  { format: 'nf4' },
  { format: 'nf4', doubleQuantization: true },
  { format: 'q8_0' },
  { format: 'q4_0' },
];
const name = (o: QuantizeOptions) =>
  `${o.format}${o.groupSize ? ` g${o.groupSize}` : ''}${o.symmetric === false ? ' asymmetric' : ''}${o.doubleQuantization ? ' double' : ''}`;

function values(rows: number, columns: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: rows * columns }, () => g.nextNormal() * 0.05);
}

await setBackend(getBackend().name);
const cpu = getBackend().name === 'cpu';
const BACKENDS = ['js', 'js-no-quantized', ...(cpu ? ['cpu'] : [])];

beforeAll(() => {
  registerBackend('js-no-quantized', () =>
    createJsBackend({ name: 'js-no-quantized', withoutKernels: ['quantizedMatmul'] }),
  );
});

describe('QuantizedEmbedding', () => {
  const [V, C] = [300, 128];
  const ids = [
    [5, 0, 299, 5],
    [17, 42, 1, 250],
  ];
  for (const options of FORMATS) {
    it(`${name(options)}: lookups are the dequantized rows, exactly, on ${BACKENDS.join(', ')}`, async () => {
      const packed = quantizeWeight(values(V, C, 1), [V, C], options);
      const table = dequantizeWeight(packed);
      for (const backend of BACKENDS) {
        const wte = new QuantizedEmbedding(packed, { backend });
        const idTensor = fromValues(Int32Array.from(ids.flat()), [2, 4], {
          dtype: 'int32',
          backend,
        });
        const out = noGrad(() => wte.forward(idTensor));
        expect(out.shape).toEqual([2, 4, C]);
        expect(out.dtype).toBe('float32');
        const got = await out.data<Float32Array>();
        const mismatches: string[] = [];
        ids.flat().forEach((id, i) => {
          for (let c = 0; c < C; c++)
            if (got[i * C + c] !== table[id * C + c])
              mismatches.push(
                `${backend} id ${id} column ${c}: ${got[i * C + c]} vs ${table[id * C + c]}`,
              );
        });
        expect(mismatches.slice(0, 3)).toEqual([]);
        out.dispose();
        idTensor.dispose();
        wte.dispose();
      }
    });
  }

  for (const options of [
    { format: 'int8' },
    { format: 'q4_0' },
    { format: 'nf4', doubleQuantization: true },
  ] as QuantizeOptions[])
    it(`${name(options)}: attend is x @ dequantize(table)^T (the tied head)`, async () => {
      const packed = quantizeWeight(values(V, C, 2), [V, C], options);
      const table = dequantizeWeight(packed);
      // q4_0 takes 8-bit activations: the head sees x rounded as Q8_0 per 32 values
      const x =
        packed.options.activations === 'int8'
          ? roundTripActivations(values(3, C, 3), C)
          : values(3, C, 3);
      const input = values(3, C, 3);
      for (const backend of BACKENDS) {
        const wte = new QuantizedEmbedding(packed, { backend });
        const y = await noGrad(() =>
          wte.attend(fromValues(input, [3, C], { backend })),
        ).data<Float32Array>();
        expect(y.length).toBe(3 * V);
        for (let m = 0; m < 3; m++)
          for (let v = 0; v < V; v++) {
            let expected = 0;
            for (let c = 0; c < C; c++) expected += x[m * C + c] * table[v * C + c];
            expect(y[m * V + v]).toBeCloseTo(expected, 5);
          }
      }
    });

  it('is frozen, keeps only packed buffers, and toEmbedding gives the float table back', async () => {
    const float = new Embedding(64, 64);
    const wte = QuantizedEmbedding.fromEmbedding(float, { format: 'int8' });
    expect(wte.parameters()).toEqual([]);
    expect(Object.entries(wte.stateDict()).map(([k, t]) => [k, t.dtype, t.shape])).toEqual([
      ['weight', 'int8', [64, 64]],
      ['weight_scales', 'float32', [64]],
    ]);
    expect(wte.weight).toBe(wte.stateDict().weight);
    expect(wte.weightBytes()).toBe(64 * 64 + 4 * 64);
    const back = wte.toEmbedding();
    expect(back).toBeInstanceOf(Embedding);
    expect(await back.weight.data<Float32Array>()).toEqual(
      dequantizeWeight(wte.quantizedWeightSync()),
    );
    const a = await float.weight.data<Float32Array>();
    const b = await back.weight.data<Float32Array>();
    const scale = Math.max(...a.map(Math.abs)) / 127;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(scale);
  });

  it('rejects ids that are not int32 and an attend input of the wrong width', () => {
    const wte = new QuantizedEmbedding(
      quantizeWeight(values(8, 32, 4), [8, 32], { format: 'q8_0' }),
    );
    expect(() => wte.forward(fromValues([1, 2], [2]))).toThrow(/ids must be int32, got float32/);
    expect(() => wte.attend(fromValues(new Float32Array(31), [1, 31]))).toThrow(
      /input \[1,31\] does not end in embeddingDim 32/,
    );
    expect(
      () =>
        new QuantizedEmbedding({
          ...quantizeWeight(values(8, 32, 4), [8, 32], { format: 'q8_0' }),
          parts: { weight: new Uint8Array(5) },
        }),
    ).toThrow(
      /part 'weight' of a 'q8_0' weight \[8,32\] is Uint8Array\(5\), expected Uint8Array\(272\)/,
    );
  });
});
