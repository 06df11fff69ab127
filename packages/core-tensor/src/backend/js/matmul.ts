// The `matmul` kernel: batched C = A @ B over strided views, packed then blocked.
import type { KernelTensor } from '../types.js';
import { dataOf } from './buffer.js';

type Numbers = { [i: number]: number; length: number };

/** Copies the [rows, cols] matrix at `offset` with strides (rs, cs) into row-major `into`. */
function pack(
  src: Numbers,
  offset: number,
  rows: number,
  cols: number,
  rs: number,
  cs: number,
  into: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const base = offset + r * rs;
    const o = r * cols;
    for (let c = 0; c < cols; c++) into[o + c] = src[base + c * cs];
  }
}

const K_BLOCK = 128;
const N_BLOCK = 512;

/**
 * C[M,N] += A[M,K] @ B[K,N], all row-major. Four rows of A share each loaded row of B, and the
 * (k, j) loops are blocked so a B tile stays in cache while the rows stream past.
 */
export function gemm(
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
  M: number,
  N: number,
  K: number,
): void {
  for (let j0 = 0; j0 < N; j0 += N_BLOCK) {
    const j1 = Math.min(N, j0 + N_BLOCK);
    for (let k0 = 0; k0 < K; k0 += K_BLOCK) {
      const k1 = Math.min(K, k0 + K_BLOCK);
      let i = 0;
      for (; i + 4 <= M; i += 4) {
        const c0 = i * N;
        const c1 = c0 + N;
        const c2 = c1 + N;
        const c3 = c2 + N;
        for (let k = k0; k < k1; k++) {
          const a0 = A[i * K + k];
          const a1 = A[(i + 1) * K + k];
          const a2 = A[(i + 2) * K + k];
          const a3 = A[(i + 3) * K + k];
          const bo = k * N;
          for (let j = j0; j < j1; j++) {
            const b = B[bo + j];
            C[c0 + j] += a0 * b;
            C[c1 + j] += a1 * b;
            C[c2 + j] += a2 * b;
            C[c3 + j] += a3 * b;
          }
        }
      }
      for (; i < M; i++) {
        const c0 = i * N;
        for (let k = k0; k < k1; k++) {
          const a0 = A[i * K + k];
          const bo = k * N;
          for (let j = j0; j < j1; j++) C[c0 + j] += a0 * B[bo + j];
        }
      }
    }
  }
}

export function matmul([a, b]: readonly KernelTensor[], [out]: readonly KernelTensor[]): void {
  const rank = out.shape.length;
  const M = out.shape[rank - 2];
  const N = out.shape[rank - 1];
  const K = a.shape[rank - 1];
  const batch = out.shape.slice(0, rank - 2);
  let batches = 1;
  for (const d of batch) batches *= d;
  const src = dataOf(a) as Numbers;
  const srcB = dataOf(b) as Numbers;
  const dst = dataOf(out) as Numbers;
  const A = new Float64Array(M * K);
  const B = new Float64Array(K * N);
  const C = new Float64Array(M * N);
  const index = new Array<number>(batch.length).fill(0);
  for (let t = 0; t < batches; t++) {
    let oa = a.offset;
    let ob = b.offset;
    for (let d = 0; d < batch.length; d++) {
      oa += index[d] * a.strides[d];
      ob += index[d] * b.strides[d];
    }
    pack(src, oa, M, K, a.strides[rank - 2], a.strides[rank - 1], A);
    pack(srcB, ob, K, N, b.strides[rank - 2], b.strides[rank - 1], B);
    C.fill(0);
    gemm(A, B, C, M, N, K);
    const base = t * M * N;
    for (let i = 0; i < M * N; i++) dst[base + i] = C[i];
    for (let d = batch.length - 1; d >= 0; d--) {
      index[d]++;
      if (index[d] < batch[d]) break;
      index[d] = 0;
    }
  }
}
