import { describe, expect, it } from 'vitest';
import type { KernelTensor } from '../types.js';
import { createJsBackend } from './index.js';

const backend = createJsBackend();

function view(
  data: number[],
  shape: number[],
  strides?: number[],
  offset = 0,
  dtype: 'float32' | 'int32' | 'bool' = 'float32',
): KernelTensor {
  const buffer = backend.allocate(dtype, data.length);
  const Ctor = dtype === 'float32' ? Float32Array : dtype === 'int32' ? Int32Array : Uint8Array;
  backend.write(buffer, new Ctor(data));
  const s = strides ?? shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return { buffer, dtype, shape, strides: s, offset };
}

function output(shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): KernelTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return view(new Array(size).fill(0), shape, undefined, 0, dtype);
}

const values = (t: KernelTensor) => Array.from(backend.readSync!(t.buffer) as Float32Array);

describe('js backend kernels', () => {
  it('matmul handles transposed (column-major) inputs and broadcast batches', () => {
    // a = [[1,2,3],[4,5,6]] stored transposed: buffer [1,4,2,5,3,6] with strides [1,2]
    const a = view([1, 4, 2, 5, 3, 6], [2, 3], [1, 2]);
    const b = view([1, 0, 0, 1, 1, 1], [3, 2]);
    const out = output([2, 2]);
    backend.run('matmul', [a, b], [out], { transposeA: true, transposeB: false });
    expect(values(out)).toEqual([1 + 3, 2 + 3, 4 + 6, 5 + 6]);
  });

  it('matmul agrees with a naive triple loop on odd sizes', () => {
    const M = 7;
    const K = 131;
    const N = 517;
    const A = Array.from({ length: M * K }, (_, i) => Math.sin(i));
    const B = Array.from({ length: K * N }, (_, i) => Math.cos(i));
    const out = output([M, N]);
    backend.run('matmul', [view(A, [M, K]), view(B, [K, N])], [out], {
      transposeA: false,
      transposeB: false,
    });
    const got = values(out);
    for (const [i, j] of [
      [0, 0],
      [6, 516],
      [3, 200],
      [5, 511],
    ]) {
      let expected = 0;
      for (let k = 0; k < K; k++) expected += Math.fround(A[i * K + k]) * Math.fround(B[k * N + j]);
      expect(got[i * N + j]).toBeCloseTo(expected, 3);
    }
  });

  it('matmul agrees with a naive loop for 1..5 rows and every transpose', () => {
    const [K, N] = [37, 19];
    for (let M = 1; M <= 5; M++) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const A = Array.from({ length: M * K }, (_, i) => Math.sin(i + M));
        const B = Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.7));
        // Logical A[i][k] = A[i * K + k]; a transposed view stores it as [K, M].
        const stored = (data: number[], rows: number, cols: number) =>
          Array.from(
            { length: rows * cols },
            (_, p) => data[(p % rows) * cols + Math.floor(p / rows)],
          );
        const a = ta ? view(stored(A, M, K), [M, K], [1, M]) : view(A, [M, K]);
        const b = tb ? view(stored(B, K, N), [K, N], [1, K]) : view(B, [K, N]);
        const out = output([M, N]);
        backend.run('matmul', [a, b], [out], { transposeA: ta, transposeB: tb });
        const got = values(out);
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let expected = 0;
            for (let k = 0; k < K; k++)
              expected += Math.fround(A[i * K + k]) * Math.fround(B[k * N + j]);
            expect(got[i * N + j]).toBeCloseTo(expected, 4);
          }
        }
      }
    }
  });

  it('binary broadcasts through stride-0 dimensions', () => {
    const a = view([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = view([10, 20, 30], [2, 3], [0, 1]);
    const out = output([2, 3]);
    backend.run('binary', [a, b], [out], { op: 'add' });
    expect(values(out)).toEqual([11, 22, 33, 14, 25, 36]);
  });

  it('reduce keeps dims and handles empty axes', () => {
    const x = view([1, 5, 3, 4, 2, 6], [2, 3]);
    const out = output([2, 1]);
    backend.run('reduce', [x], [out], { op: 'max', axes: [1] });
    expect(values(out)).toEqual([5, 6]);
    const arg = output([1, 3], 'int32');
    backend.run('reduce', [x], [arg], { op: 'argmin', axes: [0] });
    expect(values(arg)).toEqual([0, 1, 0]);
    const empty = view([], [2, 0]);
    const sum = output([2, 1]);
    backend.run('reduce', [empty], [sum], { op: 'sum', axes: [1] });
    expect(values(sum)).toEqual([0, 0]);
  });

  it('sums over every run of axes agree between contiguous and strided inputs', () => {
    const shape = [3, 4, 5];
    const data = Array.from({ length: 60 }, (_, i) => Math.sin(i) * 10);
    // The same logical tensor stored as [5, 4, 3] and viewed through reversed strides.
    const reversed = Array.from({ length: 60 }, (_, p) => {
      const [k, j, i] = [Math.floor(p / 12), Math.floor(p / 3) % 4, p % 3];
      return data[i * 20 + j * 5 + k];
    });
    for (const axes of [[0], [1], [2], [0, 1], [1, 2], [0, 1, 2]]) {
      const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const fast = output(kept);
      const general = output(kept);
      backend.run('reduce', [view(data, shape)], [fast], { op: 'sum', axes });
      backend.run('reduce', [view(reversed, shape, [1, 3, 12])], [general], { op: 'sum', axes });
      const [a, b] = [values(fast), values(general)];
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 4);
    }
  });

  it('gather and scatterAdd are inverses along an axis', () => {
    const x = view([1, 2, 3, 4, 5, 6], [2, 3]);
    const index = view([2, 0, 1, 1], [2, 2], undefined, 0, 'int32');
    const out = output([2, 2]);
    backend.run('gather', [x, index], [out], { axis: 1 });
    expect(values(out)).toEqual([3, 1, 5, 5]);
    const back = output([2, 3]);
    backend.run('scatterAdd', [out, index], [back], { axis: 1 });
    expect(values(back)).toEqual([1, 0, 3, 0, 10, 0]);
    const bad = view([3], [1, 1], undefined, 0, 'int32');
    expect(() => backend.run('gather', [x, bad], [output([1, 1])], { axis: 1 })).toThrow(
      /index 3 is out of range \[0, 3\)/,
    );
  });

  it('copy writes into a strided slice of a larger buffer', () => {
    const big = output([3, 4]);
    const src = view([1, 2, 3, 4], [2, 2]);
    backend.run('copy', [src], [{ ...big, shape: [2, 2], strides: [4, 1], offset: 5 }], {});
    expect(values(big)).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]);
  });

  it('cast rounds to float16/bfloat16 like PyTorch and truncates to int32', () => {
    const x = view([1.5, -2.7, 65504, 1e-8, 1e-5, 70000], [6]);
    const ints = output([6], 'int32');
    backend.run('cast', [x], [ints], { dtype: 'int32' });
    expect(values(ints)).toEqual([1, -2, 65504, 0, 0, 70000]);
    const bits = (dtype: 'float16' | 'bfloat16') => {
      const out = { ...output([6]), dtype, buffer: backend.allocate(dtype, 6) };
      backend.run('cast', [x], [out], { dtype });
      return Array.from(backend.readSync!(out.buffer) as Uint16Array);
    };
    // Expected bits from torch: x.half().view(torch.int16) and x.bfloat16().view(torch.int16).
    expect(bits('float16')).toEqual([15872, 49510, 31743, 0, 168, 31744]);
    expect(bits('bfloat16')).toEqual([16320, 49197, 18304, 12844, 14120, 18313]);
  });

  it('pools freed buffers and reports live memory', () => {
    const fresh = createJsBackend();
    const a = fresh.allocate('float32', 10);
    expect(fresh.memory()).toMatchObject({ buffers: 1, bytes: 40 });
    fresh.free(a);
    expect(fresh.memory()).toMatchObject({ buffers: 0, pooledBuffers: 1 });
    expect(fresh.allocate('float32', 10)).toBe(a);
    expect(() => fresh.run('nope', [], [], {})).toThrow(/no kernel named 'nope'/);
  });
});
