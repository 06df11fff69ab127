// The `matmul` kernel: batched C = A @ B over strided views. Plain TypeScript, but blocked the
// way BLAS is: A and B are packed into panels of 4 rows / 4 columns (which also absorbs any
// strides or transposes), and a 4x4 tile of C is accumulated in 16 local variables, so each
// loaded element of A and B is used four times from registers.
import type { KernelTensor } from '../types.js';
import { dataOf } from './buffer.js';

type Numbers = { [i: number]: number; length: number };

/** Depth of one k block: a 4 x K_BLOCK panel of A (8 KiB) stays in L1 while B panels stream. */
const K_BLOCK = 256;

/**
 * Packs rows [0, M) x depth [k0, k0 + kb) of a strided matrix into 4-row panels:
 * `panels[(i >> 2) * 4 * kb + k * 4 + (i & 3)] = A[i][k0 + k]`, zero-padded to a multiple of 4.
 * B is packed with the same function by swapping its row and column strides.
 */
function packPanels(
  src: Numbers,
  offset: number,
  rows: number,
  rowStride: number,
  depthStride: number,
  k0: number,
  kb: number,
  panels: Float64Array,
): void {
  const padded = Math.ceil(rows / 4) * 4;
  for (let i = 0; i < padded; i++) {
    const base = (i >> 2) * 4 * kb + (i & 3);
    if (i >= rows) {
      for (let k = 0; k < kb; k++) panels[base + k * 4] = 0;
      continue;
    }
    const start = offset + i * rowStride + k0 * depthStride;
    for (let k = 0; k < kb; k++) panels[base + k * 4] = src[start + k * depthStride];
  }
}

/** C[M, N] += panels(A) @ panels(B) for one k block of depth kb. */
function kernel4x4(
  Ap: Float64Array,
  Bp: Float64Array,
  C: Float64Array,
  M: number,
  N: number,
  kb: number,
): void {
  const Mp = Math.ceil(M / 4);
  const Np = Math.ceil(N / 4);
  for (let p = 0; p < Mp; p++) {
    const ao = p * 4 * kb;
    const i = p * 4;
    for (let q = 0; q < Np; q++) {
      const bo = q * 4 * kb;
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0,
        c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0;
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0,
        c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0;
      for (let k = 0; k < kb; k++) {
        const a = ao + 4 * k;
        const b = bo + 4 * k;
        const a0 = Ap[a],
          a1 = Ap[a + 1],
          a2 = Ap[a + 2],
          a3 = Ap[a + 3];
        const b0 = Bp[b],
          b1 = Bp[b + 1],
          b2 = Bp[b + 2],
          b3 = Bp[b + 3];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c03 += a0 * b3;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c13 += a1 * b3;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c23 += a2 * b3;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
        c33 += a3 * b3;
      }
      const j = q * 4;
      if (i + 4 <= M && j + 4 <= N) {
        let o = i * N + j;
        C[o] += c00;
        C[o + 1] += c01;
        C[o + 2] += c02;
        C[o + 3] += c03;
        o += N;
        C[o] += c10;
        C[o + 1] += c11;
        C[o + 2] += c12;
        C[o + 3] += c13;
        o += N;
        C[o] += c20;
        C[o + 1] += c21;
        C[o + 2] += c22;
        C[o + 3] += c23;
        o += N;
        C[o] += c30;
        C[o + 1] += c31;
        C[o + 2] += c32;
        C[o + 3] += c33;
        continue;
      }
      const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
      for (let r = 0; r < 4 && i + r < M; r++) {
        for (let c = 0; c < 4 && j + c < N; c++) C[(i + r) * N + j + c] += tile[r * 4 + c];
      }
    }
  }
}

/**
 * C[M, N] = A @ B for M < 4 straight from the strided sources: a dot product per output when B
 * is column-major (x @ W^T with W row-major, the Linear layout), a row update otherwise.
 */
function fewRows(
  A: Numbers,
  oa: number,
  aRow: number,
  aDepth: number,
  B: Numbers,
  ob: number,
  bDepth: number,
  bColumn: number,
  C: Float64Array,
  M: number,
  N: number,
  K: number,
): void {
  for (let i = 0; i < M; i++) {
    const rowA = oa + i * aRow;
    if (bDepth === 1) {
      for (let j = 0; j < N; j++) {
        const columnB = ob + j * bColumn;
        let sum = 0;
        for (let k = 0; k < K; k++) sum += A[rowA + k * aDepth] * B[columnB + k];
        C[i * N + j] = sum;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const a = A[rowA + k * aDepth];
        const rowB = ob + k * bDepth;
        for (let j = 0; j < N; j++) C[i * N + j] += a * B[rowB + j * bColumn];
      }
    }
  }
}

// Packing and accumulator buffers are reused across calls (training runs the same shapes every
// step), which keeps the garbage collector out of the hot loop.
const scratchBuffers: Float64Array[] = [
  new Float64Array(0),
  new Float64Array(0),
  new Float64Array(0),
];

const MAX_SCRATCH = 1 << 22; // elements (32 MiB); larger products allocate and drop their buffers

function scratch(slot: number, size: number): Float64Array {
  if (size > MAX_SCRATCH) return new Float64Array(size);
  if (scratchBuffers[slot].length < size) scratchBuffers[slot] = new Float64Array(size);
  return scratchBuffers[slot].length === size
    ? scratchBuffers[slot]
    : scratchBuffers[slot].subarray(0, size);
}

export function matmul([a, b]: readonly KernelTensor[], [out]: readonly KernelTensor[]): void {
  const rank = out.shape.length;
  const M = out.shape[rank - 2];
  const N = out.shape[rank - 1];
  const K = a.shape[rank - 1];
  const batch = out.shape.slice(0, rank - 2);
  let batches = 1;
  for (const d of batch) batches *= d;
  const srcA = dataOf(a) as Numbers;
  const srcB = dataOf(b) as Numbers;
  const dst = dataOf(out) as Numbers;
  const kbMax = Math.min(K_BLOCK, Math.max(1, K));
  const Ap = scratch(0, Math.ceil(M / 4) * 4 * kbMax);
  const Bp = scratch(1, Math.ceil(N / 4) * 4 * kbMax);
  const C = scratch(2, M * N);
  const [aRow, aDepth] = [a.strides[rank - 2], a.strides[rank - 1]];
  const [bDepth, bColumn] = [b.strides[rank - 2], b.strides[rank - 1]];
  const index = new Array<number>(batch.length).fill(0);
  for (let t = 0; t < batches; t++) {
    let oa = a.offset;
    let ob = b.offset;
    for (let d = 0; d < batch.length; d++) {
      oa += index[d] * a.strides[d];
      ob += index[d] * b.strides[d];
    }
    C.fill(0);
    if (M < 4) {
      // A few rows (decoding one token): packing would pad to 4 rows; use dot products instead.
      fewRows(srcA, oa, aRow, aDepth, srcB, ob, bDepth, bColumn, C, M, N, K);
    }
    for (let k0 = 0; M >= 4 && k0 < K; k0 += K_BLOCK) {
      const kb = Math.min(K_BLOCK, K - k0);
      packPanels(srcA, oa, M, aRow, aDepth, k0, kb, Ap);
      packPanels(srcB, ob, N, bColumn, bDepth, k0, kb, Bp);
      kernel4x4(Ap, Bp, C, M, N, kb);
    }
    const base = t * M * N;
    for (let i = 0; i < M * N; i++) dst[base + i] = C[i];
    for (let d = batch.length - 1; d >= 0; d--) {
      index[d]++;
      if (index[d] < batch[d]) break;
      index[d] = 0;
    }
  }
}
