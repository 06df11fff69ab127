// The native GEMM against a float64 triple loop: both transposes, sizes that cross the register
// tile (6 x 16) and cache blocks (K > 256, M > 120), strided and broadcast batches, alpha/beta,
// on every instruction-set path this CPU runs (portable, avx2, avx512), single- and multi-threaded.
import { afterAll, describe, expect, it } from 'vitest';
import { setCpuIsa, supportedCpuIsas } from './isa.js';
import { nativeKernels } from './native.js';

const native = nativeKernels();
const threads = native.info().threads;

/** Deterministic values in [-1, 1) (a linear congruential generator). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

interface Case {
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  batch?: number;
  broadcastB?: boolean;
  alpha?: number;
  beta?: number;
}

/** Runs one case natively and by a float64 triple loop; returns the worst relative error. */
function check({
  m,
  n,
  k,
  transposeA,
  transposeB,
  batch = 1,
  broadcastB = false,
  alpha = 1,
  beta = 0,
}: Case): number {
  const lda = (transposeA ? m : k) + 3; // padded rows: leading dimension > row length
  const ldb = (transposeB ? k : n) + 1;
  const ldc = n + 2;
  const strideA = (transposeA ? k : m) * lda + 5;
  const strideB = broadcastB ? 0 : (transposeB ? n : k) * ldb;
  const strideC = m * ldc;
  const a = values(strideA * batch + 7, 1);
  const b = values(Math.max(strideB * batch, (transposeB ? n : k) * ldb) + 7, 2);
  const c = values(strideC * batch + 4, 3);
  const expected = Float64Array.from(c);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const av = a[7 + t * strideA + (transposeA ? p * lda + i : i * lda + p)];
          const bv = b[7 + t * strideB + (transposeB ? j * ldb + p : p * ldb + j)];
          sum += av * bv;
        }
        const at = 4 + t * strideC + i * ldc + j;
        expected[at] = alpha * sum + (beta === 0 ? 0 : beta * c[at]);
      }
    }
  }
  native.gemm(
    transposeA,
    transposeB,
    m,
    n,
    k,
    alpha,
    a,
    7,
    lda,
    strideA,
    b,
    7,
    ldb,
    strideB,
    beta,
    c,
    4,
    ldc,
    strideC,
    batch,
  );
  let worst = 0;
  for (let i = 0; i < c.length; i++) {
    const error =
      Math.abs(c[i] - expected[i]) / (1e-6 + 1e-6 * Math.sqrt(k) * (1 + Math.abs(expected[i])));
    worst = Math.max(worst, error);
  }
  return worst;
}

afterAll(() => {
  setCpuIsa('default');
  native.setThreads(threads);
});

for (const isa of supportedCpuIsas()) {
  for (const threadCount of [1, 2]) {
    describe(`gemm (${isa} kernels, ${threadCount} threads)`, () => {
      for (const [transposeA, transposeB] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        it(`matches float64 for transposeA=${transposeA} transposeB=${transposeB}`, () => {
          setCpuIsa(isa);
          native.setThreads(threadCount);
          for (const [m, n, k] of [
            [1, 1, 1],
            [5, 17, 3],
            [6, 16, 8],
            [131, 67, 300],
            // the AVX-512 tile is 14 x 32: one exact tile, ragged edges, K past one KC slice
            [14, 32, 256],
            [29, 65, 257],
            [200, 97, 600],
            [7, 250, 513],
            // wider than one NC = 1024 column block of packed B
            [9, 1100, 40],
            // one row: the matrix-vector path (chunk edges, k not a multiple of 16, threaded)
            [1, 1000, 37],
            [1, 3, 1000],
            [1, 600, 300],
            // 2..8 rows against W^T: the streamed few-row path (tiles of 4 x 4 or 4 x 2, a ragged
            // last tile of W's rows, k not a multiple of a vector, threaded)
            [2, 37, 77],
            [4, 1000, 300],
            [8, 65, 1029],
          ]) {
            expect(check({ m, n, k, transposeA, transposeB }), `${m}x${n}x${k}`).toBeLessThan(1);
          }
        });
      }

      it('handles batches, a broadcast operand, alpha and beta', () => {
        setCpuIsa(isa);
        native.setThreads(threadCount);
        expect(
          check({ m: 33, n: 40, k: 70, transposeA: false, transposeB: true, batch: 3 }),
        ).toBeLessThan(1);
        expect(
          check({
            m: 6,
            n: 41,
            k: 50,
            transposeA: false,
            transposeB: true,
            batch: 2,
            alpha: 0.5,
            beta: -2,
          }),
        ).toBeLessThan(1);
        expect(
          check({
            m: 20,
            n: 9,
            k: 64,
            transposeA: true,
            transposeB: false,
            batch: 4,
            broadcastB: true,
          }),
        ).toBeLessThan(1);
        expect(
          check({
            m: 50,
            n: 70,
            k: 270,
            transposeA: false,
            transposeB: false,
            alpha: 0.5,
            beta: -2,
          }),
        ).toBeLessThan(1);
        expect(
          check({ m: 8, n: 8, k: 0, transposeA: false, transposeB: false, beta: 0.25 }),
        ).toBeLessThan(1);
        for (const [transposeA, transposeB] of [
          [true, true],
          [false, false],
        ] as const) {
          expect(
            check({ m: 1, n: 700, k: 200, transposeA, transposeB, batch: 3, alpha: 0.5, beta: -2 }),
          ).toBeLessThan(1);
          expect(
            check({ m: 1, n: 300, k: 90, transposeA, transposeB, batch: 2, broadcastB: true }),
          ).toBeLessThan(1);
        }
      });
    });
  }
}

describe('gemm argument checks', () => {
  it('throws instead of reading past an array', () => {
    const small = new Float32Array(10);
    expect(() =>
      native.gemm(
        false,
        false,
        4,
        4,
        4,
        1,
        small,
        0,
        4,
        0,
        small,
        0,
        4,
        0,
        0,
        new Float32Array(16),
        0,
        4,
        0,
        1,
      ),
    ).toThrow(/gemm: argument 6 has 10 elements, needs 16/);
    expect(() =>
      native.gemm(false, false, 2, 2, 4, 1, small, 0, 3, 0, small, 0, 2, 0, 0, small, 0, 2, 0, 1),
    ).toThrow(/lda 3/);
  });
});
