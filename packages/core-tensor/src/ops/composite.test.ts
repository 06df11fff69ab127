// Forward values of composite ops against plain-JS computations written here, independently of
// the kernels, on the js backend with and without its fused kernels.
import { describe, expect, it } from 'vitest';
import { createJsBackend, FUSED_KERNELS, registerBackend } from '../backend/index.js';
import * as t from '../index.js';
import { Generator } from '../random.js';
import { canUseFusedAttention } from './attention.js';

registerBackend('js-composed', () =>
  createJsBackend({ name: 'js-composed', withoutKernels: FUSED_KERNELS }),
);

const generator = new Generator(99);
const randomArray = (n: number) => Array.from({ length: n }, () => generator.nextNormal() * 3);
const rowsOf = (flat: number[], columns: number) =>
  Array.from({ length: flat.length / columns }, (_, r) =>
    flat.slice(r * columns, (r + 1) * columns),
  );

function softmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 5) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits);
}

for (const backend of ['js', 'js-composed']) {
  describe(`composite forwards on ${backend}`, () => {
    it('softmax and logSoftmax', () => {
      const data = randomArray(12);
      const x = t.tensor(data, { shape: [3, 4], backend });
      const expected = rowsOf(data, 4).flatMap(softmaxRow);
      expectClose(t.softmax(x).dataSync() as Float32Array, expected);
      expectClose(t.logSoftmax(x).dataSync() as Float32Array, expected.map(Math.log), 4);
      // Along axis 0: columns.
      const columns = [0, 1, 2, 3].map((j) => softmaxRow([data[j], data[4 + j], data[8 + j]]));
      const axis0 = t.softmax(x, 0).dataSync();
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 4; j++) expect(axis0[i * 4 + j]).toBeCloseTo(columns[j][i], 5);
    });

    it('layerNorm with weight and bias', () => {
      const data = randomArray(10);
      const weight = randomArray(5);
      const bias = randomArray(5);
      const y = t.layerNorm(
        t.tensor(data, { shape: [2, 5], backend }),
        t.tensor(weight, { backend }),
        t.tensor(bias, { backend }),
      );
      const expected = rowsOf(data, 5).flatMap((row) => {
        const m = row.reduce((a, b) => a + b, 0) / 5;
        const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 5;
        return row.map((x, j) => ((x - m) / Math.sqrt(v + 1e-5)) * weight[j] + bias[j]);
      });
      expectClose(y.dataSync() as Float32Array, expected, 4);
    });

    it('crossEntropy with ignoreIndex and label smoothing', () => {
      const data = randomArray(15);
      const targets = [2, -100, 4];
      const logits = t.tensor(data, { shape: [3, 5], backend });
      const ids = t.tensor(targets, { dtype: 'int32', backend });
      const losses = rowsOf(data, 5).map((row, r) => {
        const logp = softmaxRow(row).map(Math.log);
        return targets[r] === -100
          ? null
          : { nll: -logp[targets[r]], smooth: -logp.reduce((a, b) => a + b, 0) / 5 };
      });
      const counted = losses.filter((l) => l !== null);
      const mean = counted.reduce((a, l) => a + l.nll, 0) / counted.length;
      expect(t.crossEntropy(logits, ids).item()).toBeCloseTo(mean, 5);
      const smoothed =
        counted.reduce((a, l) => a + 0.9 * l.nll + 0.1 * l.smooth, 0) / counted.length;
      expect(t.crossEntropy(logits, ids, { labelSmoothing: 0.1 }).item()).toBeCloseTo(smoothed, 5);
      const none = t.crossEntropy(logits, ids, { reduction: 'none' }).dataSync();
      expectClose(none, [losses[0]!.nll, 0, losses[2]!.nll]);
      expect(() =>
        t.crossEntropy(logits, t.tensor([0, 1, 7], { dtype: 'int32', backend })),
      ).toThrow(/out of range \[0, 5\)/);
    });

    it('causal scaled dot-product attention', () => {
      const [T, D] = [4, 3];
      const q = randomArray(T * D);
      const k = randomArray(T * D);
      const v = randomArray(T * D);
      const make = (d: number[]) => t.tensor(d, { shape: [1, 1, T, D], backend });
      const out = t.noGrad(() =>
        t.scaledDotProductAttention(make(q), make(k), make(v), { causal: true }),
      );
      const expected: number[] = [];
      for (let i = 0; i < T; i++) {
        const scores = [];
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[i * D + d] * k[j * D + d];
          scores.push(dot / Math.sqrt(D));
        }
        const p = softmaxRow(scores);
        for (let d = 0; d < D; d++) expected.push(p.reduce((a, w, j) => a + w * v[j * D + d], 0));
      }
      expectClose(out.dataSync() as Float32Array, expected, 4);
      // The composed path (gradients on) gives the same values as the fused one.
      const withGrad = t.scaledDotProductAttention(make(q).requiresGrad_(), make(k), make(v), {
        causal: true,
      });
      expectClose(withGrad.dataSync() as Float32Array, expected, 4);
    });

    it('attention returns its weights (the composed path) with the same output', () => {
      // T = 2 queries over S = 3 keys, causal: query 0 sees keys 0..1, query 1 all three.
      const [T, S, D] = [2, 3, 2];
      const q = randomArray(T * D);
      const k = randomArray(S * D);
      const v = randomArray(S * D);
      const make = (d: number[], n: number) => t.tensor(d, { shape: [1, 1, n, D], backend });
      const inputs = [make(q, T), make(k, S), make(v, S)] as const;
      const plain = t.noGrad(() => t.scaledDotProductAttention(...inputs, { causal: true }));
      const { output, weights } = t.noGrad(() =>
        t.scaledDotProductAttention(...inputs, { causal: true, returnWeights: true }),
      );
      const expectedWeights: number[] = [];
      for (let i = 0; i < T; i++) {
        const scores = [];
        for (let j = 0; j <= i + S - T; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[i * D + d] * k[j * D + d];
          scores.push(dot / Math.sqrt(D));
        }
        const p = softmaxRow(scores);
        expectedWeights.push(...p, ...new Array(S - p.length).fill(0));
      }
      expect(weights.shape).toEqual([1, 1, T, S]);
      expectClose(weights.dataSync() as Float32Array, expectedWeights);
      expectClose(
        output.dataSync() as Float32Array,
        Array.from(plain.dataSync() as Float32Array),
        5,
      );
    });

    it('grouped-query attention equals attention over repeated keys and values', () => {
      // H = 6 query heads over Hkv = 2: heads 0-2 read kv head 0, heads 3-5 kv head 1.
      const [B, H, Hkv, T, S, D] = [2, 6, 2, 3, 5, 4];
      const make = (shape: number[]) =>
        t.tensor(randomArray(shape.reduce((a, b) => a * b, 1)), { shape, backend });
      const [q, k, v] = [make([B, H, T, D]), make([B, Hkv, S, D]), make([B, Hkv, S, D])];
      const repeat = (x: t.Tensor) =>
        t.reshape(t.expand(t.unsqueeze(x, 2), [B, Hkv, H / Hkv, S, D]), [B, H, S, D]);
      for (const options of [{ causal: true }, { causal: false }, { returnWeights: false }]) {
        const grouped = t.noGrad(() => t.scaledDotProductAttention(q, k, v, options));
        const repeated = t.noGrad(() =>
          t.scaledDotProductAttention(q, repeat(k), repeat(v), options),
        );
        expectClose(
          grouped.dataSync() as Float32Array,
          Array.from(repeated.dataSync() as Float32Array),
          5,
        );
      }
      const { weights } = t.scaledDotProductAttention(q, k, v, { returnWeights: true });
      expect(weights.shape).toEqual([B, H, T, S]);
      // With a gradient: the training path (fused forward and backward on js) and the composed one.
      const qg = q.detach().requiresGrad_();
      const out = t.scaledDotProductAttention(qg, k, v, { causal: true });
      const expected = t.noGrad(() =>
        t.scaledDotProductAttention(q, repeat(k), repeat(v), { causal: true }),
      );
      expectClose(out.dataSync() as Float32Array, Array.from(expected.dataSync() as Float32Array));
    });

    it('rmsNorm with and without a weight, on a strided view', () => {
      const data = randomArray(14);
      const weight = randomArray(7);
      const x = t.tensor(data, { shape: [2, 7], backend });
      const expected = (w?: number[]) =>
        rowsOf(data, 7).flatMap((row) => {
          const rstd = 1 / Math.sqrt(row.reduce((a, b) => a + b * b, 0) / 7 + 1e-6);
          return row.map((value, j) => value * rstd * (w ? w[j] : 1));
        });
      const options = { epsilon: 1e-6 };
      expectClose(
        t.rmsNorm(x, t.tensor(weight, { backend }), options).dataSync() as Float32Array,
        expected(weight),
      );
      expectClose(t.rmsNorm(x, null, options).dataSync() as Float32Array, expected());
      const viewed = t.transpose(t.tensor(data, { shape: [7, 2], backend }));
      const columns = [0, 1].flatMap((c) => [0, 1, 2, 3, 4, 5, 6].map((r) => data[r * 2 + c]));
      const transposedRows = rowsOf(columns, 7).flatMap((row) => {
        const rstd = 1 / Math.sqrt(row.reduce((a, b) => a + b * b, 0) / 7 + 1e-6);
        return row.map((value) => value * rstd);
      });
      expectClose(t.rmsNorm(viewed, null, options).dataSync() as Float32Array, transposedRows);
    });

    it('rope rotates each half-split pair by its angle', () => {
      const [B, H, T, D] = [2, 3, 2, 4];
      const data = randomArray(B * H * T * D);
      const angles = randomArray(B * T * (D / 2));
      // Tables [B, 1, T, D]: each angle repeated over both halves.
      const table = (f: (a: number) => number) =>
        t.tensor(
          Array.from({ length: B * T * D }, (_, i) => {
            const [row, j] = [Math.floor(i / D), i % D];
            return f(angles[row * (D / 2) + (j % (D / 2))]);
          }),
          { shape: [B, 1, T, D], backend },
        );
      const out = t.rope(
        t.tensor(data, { shape: [B, H, T, D], backend }),
        table(Math.cos),
        table(Math.sin),
      );
      const expected: number[] = [];
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          for (let p = 0; p < T; p++) {
            const base = ((b * H + h) * T + p) * D;
            const rotated = new Array(D);
            for (let i = 0; i < D / 2; i++) {
              const angle = angles[(b * T + p) * (D / 2) + i];
              const [x1, x2] = [data[base + i], data[base + i + D / 2]];
              rotated[i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
              rotated[i + D / 2] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
            }
            expected.push(...rotated);
          }
      expectClose(out.dataSync() as Float32Array, expected);
    });

    it('canUseFusedAttention decides the fused kernel', () => {
      const x = (requiresGrad = false) =>
        t.zeros([1, 2, 3, 4], { backend, requiresGrad }) as t.Tensor;
      const fused = backend === 'js'; // js-composed has no attention kernel
      const mask = t.ones([3, 3], { backend, dtype: 'bool' });
      expect(canUseFusedAttention(x(), x(), x())).toBe(fused);
      expect(canUseFusedAttention(x(), x(), x(), { mask, causal: true })).toBe(fused);
      expect(canUseFusedAttention(x(true), x(), x(), { causal: true })).toBe(fused);
      // Only the composed path has the weights, dropout, bool masks with a gradient, rank 3.
      expect(canUseFusedAttention(x(), x(), x(), { returnWeights: true })).toBe(false);
      expect(canUseFusedAttention(x(), x(), x(), { dropout: 0.1 })).toBe(false);
      expect(canUseFusedAttention(x(true), x(), x(), { mask })).toBe(false);
      expect(t.noGrad(() => canUseFusedAttention(x(true), x(), x(), { mask }))).toBe(fused);
      const flat = t.zeros([2, 3, 4], { backend });
      expect(canUseFusedAttention(flat, flat, flat)).toBe(false);
      // Causal with more queries than keys leaves query 0 without a key: composed in training.
      const keys = t.zeros([1, 2, 2, 4], { backend });
      expect(canUseFusedAttention(x(true), keys, keys, { causal: true })).toBe(false);
      // Grouped keys and values: Hkv must divide H.
      const grouped = t.zeros([1, 1, 3, 4], { backend });
      expect(canUseFusedAttention(x(), grouped, grouped)).toBe(fused);
      const three = t.zeros([1, 3, 3, 4], { backend });
      const six = t.zeros([1, 6, 3, 4], { backend });
      expect(canUseFusedAttention(x(), three, three)).toBe(false);
      expect(canUseFusedAttention(six, three, three)).toBe(fused);
    });
  });
}

describe('causalMask', () => {
  it('lets query t see keys s <= t + S - T', async () => {
    expect(await t.causalMask(3, 3).array()).toEqual([
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
    // Two new queries after one cached key (a KV cache): aligned to the end.
    expect(await t.causalMask(2, 3).array()).toEqual([
      [true, true, false],
      [true, true, true],
    ]);
    // More queries than keys: the first sees none.
    expect(await t.causalMask(3, 2).array()).toEqual([
      [false, false],
      [true, false],
      [true, true],
    ]);
    expect(t.causalMask(1, 4, { backend: 'js-composed' }).backend.name).toBe('js-composed');
  });
});

describe('shapes, broadcasting and errors', () => {
  it('broadcasts [2,1,3] with [4,1]', async () => {
    const a = t.arange(6).reshape([2, 1, 3]);
    const b = t.arange(4).reshape([4, 1]);
    const c = t.add(a, b);
    expect(c.shape).toEqual([2, 4, 3]);
    expect((await c.array()) as number[][][]).toEqual(
      [0, 1].map((i) => [0, 1, 2, 3].map((j) => [0, 1, 2].map((k) => i * 3 + k + j))),
    );
    expect(() => t.add(t.zeros([2, 3]), t.zeros([4]))).toThrow(
      'add: shapes [2,3] and [4] cannot be broadcast',
    );
  });

  it('names dtype mismatches', () => {
    expect(() => t.add(t.zeros([2]), t.zeros([2], { dtype: 'int32' }))).toThrow(
      'add: dtype mismatch: float32 vs int32',
    );
    expect(() => t.exp(t.zeros([2], { dtype: 'int32' }))).toThrow('exp: unsupported dtype int32');
    expect(() => t.matmul(t.zeros([2, 2]), t.zeros([2, 2], { dtype: 'float64' }))).toThrow(
      'matmul: dtype mismatch: float32 vs float64',
    );
  });

  it('handles size-0 and scalar tensors', async () => {
    expect(Array.from(t.sum(t.zeros([0, 3]), 0).dataSync())).toEqual([0, 0, 0]);
    expect(t.matmul(t.zeros([2, 0]), t.zeros([0, 3])).dataSync()).toEqual(new Float32Array(6));
    expect(t.add(t.tensor(2), 3).item()).toBe(5);
    expect(t.cat([t.zeros([0, 2]), t.ones([1, 2])]).shape).toEqual([1, 2]);
  });

  it('where with two numbers gives float32', async () => {
    const w = t.where(t.tensor([true, false]), 1, 0);
    expect(w.dtype).toBe('float32');
    expect(await w.array()).toEqual([1, 0]);
  });

  it('argmax, var, split, oneHot and tril', async () => {
    const x = t.tensor([
      [1, 5, 2],
      [7, 0, 7],
    ]);
    expect(await t.argmax(x, 1).array()).toEqual([1, 0]);
    expect(t.argmax(x).item()).toBe(3);
    expect(t.variance(x, 1).dataSync()[0]).toBeCloseTo(13 / 3, 5);
    expect(t.split(t.arange(5), 2).map((p) => p.shape[0])).toEqual([2, 2, 1]);
    expect(await t.oneHot(t.tensor([2, 0], { dtype: 'int32' }), 3).array()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    expect(await t.tril(t.ones([2, 3])).array()).toEqual([
      [1, 0, 0],
      [1, 1, 0],
    ]);
  });

  it('draws identical random streams for a seed', () => {
    t.manualSeed(5);
    const a = Array.from(t.randn([5]).dataSync());
    t.manualSeed(5);
    expect(Array.from(t.randn([5]).dataSync())).toEqual(a);
    const u = t.rand([2000]).dataSync() as Float32Array;
    const mean = u.reduce((s, v) => s + v, 0) / u.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
