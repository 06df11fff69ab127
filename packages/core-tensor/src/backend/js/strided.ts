import type { KernelTensor } from '../types.js';

/** Number of elements of a kernel tensor. */
export function sizeOf(t: { shape: readonly number[] }): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}

/** True when the view is row-major contiguous (any offset). */
export function isContiguous(t: KernelTensor): boolean {
  let expected = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.strides[i] !== expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

// Reused offset arrays for kernels that only need them during one call (kernels are
// synchronous), so element-wise ops do not allocate per call. Large requests are not cached.
const scratchArrays: Int32Array[] = [];
const MAX_SCRATCH = 1 << 22;

function scratch(slot: number, n: number): Int32Array {
  if (n > MAX_SCRATCH) return new Int32Array(n);
  if (!scratchArrays[slot] || scratchArrays[slot].length < n)
    scratchArrays[slot] = new Int32Array(Math.max(n, 1024));
  return scratchArrays[slot].subarray(0, n);
}

/**
 * Physical index of every logical element of a view, in row-major order. For shape [2,3] with
 * strides [1,2] (a transpose) and offset 0: [0,2,4,1,3,5].
 */
export function elementOffsets(t: KernelTensor, slot?: number): Int32Array {
  const n = sizeOf(t);
  const out = slot === undefined ? new Int32Array(n) : scratch(slot, n);
  if (n === 0) return out;
  if (isContiguous(t)) {
    for (let i = 0; i < n; i++) out[i] = t.offset + i;
    return out;
  }
  const rank = t.shape.length;
  const inner = t.shape[rank - 1];
  const innerStride = t.strides[rank - 1];
  const index = new Array<number>(rank).fill(0);
  let base = t.offset;
  for (let i = 0; i < n; i += inner) {
    for (let j = 0; j < inner; j++) out[i + j] = base + j * innerStride;
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      base += t.strides[d];
      if (index[d] < t.shape[d]) break;
      base -= t.strides[d] * t.shape[d];
      index[d] = 0;
    }
  }
  return out;
}
