// The `reduce` kernel: sum/prod/max/min/argmax/argmin over a set of axes, keep-dim output.
import { TensorError } from '../../errors.js';
import type { KernelAttributes, KernelTensor, ReduceOp } from '../types.js';
import { dataOf } from './buffer.js';
import { elementOffsets, isContiguous } from './strided.js';

type Numbers = { [i: number]: number; length: number };

export function reduce(
  [x]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const op = attrs.op as ReduceOp;
  const axes = attrs.axes as readonly number[];
  const src = dataOf(x) as Numbers;
  const dst = dataOf(out) as Numbers;
  const rank = x.shape.length;
  if (op === 'sum' && sumFast(x, axes, src, dst)) return;
  // Output strides for the keep-dim layout, with 0 on reduced axes: the output index of an input
  // element is then sum(index[d] * outStride[d]).
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) reduced[a] = true;
  const outStride = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    outStride[d] = reduced[d] ? 0 : stride;
    stride *= reduced[d] ? 1 : x.shape[d];
  }
  const outSize = dst.length;
  const offsets = elementOffsets(x, 0);
  const index = new Array<number>(rank).fill(0);
  if (op === 'argmax' || op === 'argmin') {
    if (axes.length !== 1) {
      throw new TensorError('invalid_argument', `reduce: ${op} takes one axis, got [${axes}]`);
    }
    const axis = axes[0];
    const best = new Float64Array(outSize).fill(op === 'argmax' ? -Infinity : Infinity);
    const found = new Uint8Array(outSize);
    for (let i = 0; i < outSize; i++) dst[i] = 0;
    forEachIndex(offsets.length, x.shape, index, (k) => {
      let o = 0;
      for (let d = 0; d < rank; d++) o += index[d] * outStride[d];
      const v = src[offsets[k]];
      if (Number.isNaN(best[o])) return;
      const better = op === 'argmax' ? v > best[o] : v < best[o];
      if (!found[o] || better || Number.isNaN(v)) {
        best[o] = v;
        dst[o] = index[axis];
        found[o] = 1;
      }
    });
    return;
  }
  const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
  // Accumulate in float64 (a plain array) whatever the output dtype.
  const acc = new Float64Array(outSize).fill(init);
  forEachIndex(offsets.length, x.shape, index, (k) => {
    let o = 0;
    for (let d = 0; d < rank; d++) o += index[d] * outStride[d];
    const v = src[offsets[k]];
    if (op === 'sum') acc[o] += v;
    else if (op === 'prod') acc[o] *= v;
    else if (op === 'max') acc[o] = v > acc[o] || Number.isNaN(v) ? v : acc[o];
    else acc[o] = v < acc[o] || Number.isNaN(v) ? v : acc[o];
  });
  for (let i = 0; i < outSize; i++) dst[i] = acc[i];
}

/** Calls `body(k)` for each row-major element k with `index` holding its multi-index. */
function forEachIndex(
  n: number,
  shape: readonly number[],
  index: number[],
  body: (k: number) => void,
): void {
  index.fill(0);
  const rank = shape.length;
  for (let k = 0; k < n; k++) {
    body(k);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      if (index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

/**
 * Sums of a contiguous input over a run of adjacent axes, seen as [outer, middle, inner] with the
 * middle reduced: rows of a matrix (softmax and norm statistics), the batch (bias gradients).
 * Returns false for other layouts, which take the general path above.
 */
function sumFast(x: KernelTensor, axes: readonly number[], src: Numbers, dst: Numbers): boolean {
  if (axes.length === 0 || !isContiguous(x)) return false;
  const contiguousRun = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (!contiguousRun) return false;
  const inner = x.shape.slice(axes[axes.length - 1] + 1).reduce((p, d) => p * d, 1);
  const middle = axes.reduce((p, a) => p * x.shape[a], 1);
  const outer = x.shape.slice(0, axes[0]).reduce((p, d) => p * d, 1);
  const o = x.offset;
  const acc = new Float64Array(inner);
  for (let r = 0; r < outer; r++) {
    acc.fill(0);
    for (let m = 0; m < middle; m++) {
      const base = o + (r * middle + m) * inner;
      for (let j = 0; j < inner; j++) acc[j] += src[base + j];
    }
    for (let j = 0; j < inner; j++) dst[r * inner + j] = acc[j];
  }
  return true;
}
