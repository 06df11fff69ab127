// The `matmul` kernel on the native GEMM: `out[...batch] = a @ b` for float32 views.
//
// Each matrix must have one unit stride (row-major, or column-major = a transposed row-major
// matrix); that is read from the strides, so size-1 dimensions with odd strides still work. Batch
// dimensions that are regularly strided in both inputs (including broadcast, stride 0) become
// one native batched call; irregular outer batch dimensions are looped here.
import type { KernelTensor } from '@llmkit/core-tensor/backend';
import type { NativeKernels } from '../native.js';
import { floatsOf } from './tensors.js';

interface MatrixLayout {
  transposed: boolean;
  leading: number;
}

/** How a rows x cols view with strides (rowStride, colStride) maps onto GEMM's arguments. */
function matrixLayout(
  rows: number,
  cols: number,
  rowStride: number,
  colStride: number,
): MatrixLayout | undefined {
  if (colStride === 1 || cols === 1) {
    const leading = rows === 1 ? cols : rowStride;
    if (leading >= cols) return { transposed: false, leading: Math.max(leading, 1) };
  }
  if (rowStride === 1 || rows === 1) {
    const leading = cols === 1 ? rows : colStride;
    if (leading >= rows) return { transposed: true, leading: Math.max(leading, 1) };
  }
  return undefined;
}

/** Runs matmul natively; returns false (leaving the js kernel to run) for unsupported cases. */
export function matmul(
  native: NativeKernels,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
): boolean {
  const [a, b] = inputs;
  const [out] = outputs;
  const A = floatsOf(a);
  const B = floatsOf(b);
  const C = floatsOf(out);
  if (!A || !B || !C) return false;
  const rank = out.shape.length;
  if (rank < 2) return false;
  const M = out.shape[rank - 2];
  const N = out.shape[rank - 1];
  const K = a.shape[rank - 1];
  const la = matrixLayout(M, K, a.strides[rank - 2], a.strides[rank - 1]);
  const lb = matrixLayout(K, N, b.strides[rank - 2], b.strides[rank - 1]);
  if (!la || !lb) return false;
  // Merge the innermost batch dimensions that stride regularly in a and b (out is contiguous).
  const batchDims: number[] = [];
  for (let d = 0; d < rank - 2; d++) if (out.shape[d] !== 1) batchDims.push(d);
  let inner = 1;
  let strideA = 0;
  let strideB = 0;
  let split = batchDims.length;
  if (split > 0) {
    const last = batchDims[split - 1];
    strideA = a.strides[last];
    strideB = b.strides[last];
    inner = out.shape[last];
    split--;
    while (split > 0) {
      const d = batchDims[split - 1];
      if (a.strides[d] !== strideA * inner || b.strides[d] !== strideB * inner) break;
      inner *= out.shape[d];
      split--;
    }
  }
  const outer = batchDims.slice(0, split);
  let outerCount = 1;
  for (const d of outer) outerCount *= out.shape[d];
  const index = new Array<number>(outer.length).fill(0);
  for (let t = 0; t < outerCount; t++) {
    let offsetA = a.offset;
    let offsetB = b.offset;
    const offsetC = out.offset + t * inner * M * N;
    for (let i = 0; i < outer.length; i++) {
      offsetA += index[i] * a.strides[outer[i]];
      offsetB += index[i] * b.strides[outer[i]];
    }
    native.gemm(
      la.transposed,
      lb.transposed,
      M,
      N,
      K,
      1,
      A,
      offsetA,
      la.leading,
      strideA,
      B,
      offsetB,
      lb.leading,
      strideB,
      0,
      C,
      offsetC,
      N,
      M * N,
      inner,
    );
    for (let i = outer.length - 1; i >= 0; i--) {
      index[i]++;
      if (index[i] < out.shape[outer[i]]) break;
      index[i] = 0;
    }
  }
  return true;
}
