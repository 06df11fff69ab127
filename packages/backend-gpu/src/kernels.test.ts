import type { ReduceOp } from '@llmkit/core-tensor/backend';
import { describe, expect, it } from 'vitest';
import { floats, mismatch, random, runBoth, testBackend } from './test-support/harness.js';

const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

function ints(n: number, seed: number, limit: number): Int32Array {
  const next = random(seed);
  return Int32Array.from({ length: n }, () => Math.floor(next() * limit));
}

describe.skipIf(!gpu)('reduce, matmul, indexing against js', () => {
  it('reduce over axes, strided input, serial and tree strategies', async () => {
    const x = floats(2 * 3 * 100, 5, 3);
    x[17] = Number.NaN;
    for (const op of ['sum', 'prod', 'max', 'min', 'argmax', 'argmin'] as ReduceOp[]) {
      for (const axes of op.startsWith('arg') ? [[1], [2]] : [[1], [0, 2], [2], [0, 1, 2]]) {
        const shape = [2, 3, 100];
        const outShape = shape.map((s, d) => (axes.includes(d) ? 1 : s));
        const r = await runBoth(
          gpu!,
          'reduce',
          [{ dtype: 'float32', data: x, shape: [2, 3, 100], strides: [1, 2, 6] }],
          [{ dtype: op.startsWith('arg') ? 'int32' : 'float32', shape: outShape }],
          { op, axes },
        );
        expect(mismatch(r.gpu[0], r.js[0], 1e-5, 1e-4), `${op} ${axes}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('reduce sums int32 and handles empty axes', async () => {
    const x = ints(40, 6, 1000);
    const r = await runBoth(
      gpu!,
      'reduce',
      [{ dtype: 'int32', data: x, shape: [4, 10] }],
      [{ dtype: 'int32', shape: [4, 1] }],
      { op: 'sum', axes: [1] },
    );
    expect([...r.gpu[0]]).toEqual([...r.js[0]]);
    const empty = await runBoth(
      gpu!,
      'reduce',
      [{ dtype: 'float32', data: new Float32Array(0), shape: [3, 0] }],
      [{ dtype: 'float32', shape: [3, 1] }],
      { op: 'max', axes: [1] },
    );
    expect([...empty.gpu[0]]).toEqual([...empty.js[0]]);
  });

  it('matmul with transposes, batches, broadcast batch and edge tiles', async () => {
    const cases = [
      { M: 1, K: 1, N: 1, batch: [] as number[] },
      { M: 70, K: 33, N: 65, batch: [] },
      { M: 5, K: 17, N: 9, batch: [3] },
      { M: 64, K: 16, N: 64, batch: [2, 2] },
      { M: 130, K: 19, N: 129, batch: [] }, // the 128-wide tiling, with edges
      { M: 128, K: 8, N: 256, batch: [2] }, // vec4 loads of A and B
      { M: 131, K: 12, N: 132, batch: [] }, // vec4 loads, edge tiles
    ];
    for (const { M, K, N, batch } of cases) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const nb = batch.reduce((a, b) => a * b, 1);
        const a = floats(nb * M * K, M + K);
        const b = floats(K * N, K + N);
        // a: batch-major; each matrix row-major or column-major. b: one matrix broadcast over the batch.
        const aStrides = [
          ...batch.map((_, d) => batch.slice(d + 1).reduce((x, y) => x * y, 1) * M * K),
          ...(ta ? [1, M] : [K, 1]),
        ];
        const bStrides = [...batch.map(() => 0), ...(tb ? [1, K] : [N, 1])];
        const r = await runBoth(
          gpu!,
          'matmul',
          [
            { dtype: 'float32', data: a, shape: [...batch, M, K], strides: aStrides },
            { dtype: 'float32', data: b, shape: [...batch, K, N], strides: bStrides },
          ],
          [{ dtype: 'float32', shape: [...batch, M, N] }],
          { transposeA: ta, transposeB: tb },
        );
        expect(
          mismatch(r.gpu[0], r.js[0], 1e-5, 1e-5),
          `${M}x${K}x${N} ${batch} ${ta} ${tb}`,
        ).toBeLessThanOrEqual(1);
      }
    }
  });

  it('gather and scatterAdd along each axis, broadcast index', async () => {
    const x = floats(4 * 5 * 6, 9);
    for (const axis of [0, 1, 2]) {
      const limit = [4, 5, 6][axis];
      const indexShape = [3, 4, 5];
      const index = ints(3 * 4 * 5, 10 + axis, limit);
      const g = await runBoth(
        gpu!,
        'gather',
        [
          { dtype: 'float32', data: x, shape: [4, 5, 6] },
          { dtype: 'int32', data: index, shape: indexShape },
        ],
        [{ dtype: 'float32', shape: indexShape }],
        { axis },
      );
      expect(mismatch(g.gpu[0], g.js[0], 0, 0), `gather ${axis}`).toBe(0);
      const source = floats(60, 11);
      const s = await runBoth(
        gpu!,
        'scatterAdd',
        [
          { dtype: 'float32', data: source, shape: indexShape },
          { dtype: 'int32', data: index, shape: indexShape },
        ],
        [{ dtype: 'float32', shape: [4, 5, 6], initial: floats(120, 12) }],
        { axis },
      );
      expect(mismatch(s.gpu[0], s.js[0], 1e-6, 1e-6), `scatterAdd ${axis}`).toBeLessThanOrEqual(1);
    }
    const broadcast = await runBoth(
      gpu!,
      'gather',
      [
        { dtype: 'float32', data: x, shape: [4, 30] },
        { dtype: 'int32', data: new Int32Array([29, 0, 7]), shape: [4, 3], strides: [0, 1] },
      ],
      [{ dtype: 'float32', shape: [4, 3] }],
      { axis: 1 },
    );
    expect([...broadcast.gpu[0]]).toEqual([...broadcast.js[0]]);
  });

  it('an out-of-range index throws at the next read, naming the kernel and shapes', async () => {
    await expect(
      runBoth(
        gpu!,
        'gather',
        [
          { dtype: 'float32', data: floats(6, 1), shape: [2, 3] },
          { dtype: 'int32', data: new Int32Array([0, 3]), shape: [2, 1] },
        ],
        [{ dtype: 'float32', shape: [2, 1] }],
        { axis: 1 },
      ),
    ).rejects.toThrow(
      /gather: x \[2,3\], index \[2,1\], axis 1: indices must be in \[0, 3\): index 3/,
    );
    // The flag is reset: the next kernel reads fine.
    const ok = await runBoth(
      gpu!,
      'unary',
      [{ dtype: 'float32', data: floats(3, 2), shape: [3] }],
      [{ dtype: 'float32', shape: [3] }],
      { op: 'neg' },
    );
    expect([...ok.gpu[0]]).toEqual([...ok.js[0]]);
  });
});
