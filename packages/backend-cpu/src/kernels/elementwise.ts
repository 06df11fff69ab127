// The strided element-wise kernels (`unary`, `binary`, `copy`, `reduce`) for float32 on the
// native code; other dtypes and ops (comparisons, `cast`, `where`, ...) return false so the
// js kernel runs. The layout of every operand is packed into one reused Float64Array.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import { BINARY_OPS, type NativeKernels, REDUCE_OPS, UNARY_OPS } from '../native.js';
import { arrayOf, floatsOf, intsOf } from './tensors.js';

const MAX_RANK = 32;
const layout = new Float64Array(1 + MAX_RANK + 4 * (1 + MAX_RANK));

const unaryCodes = new Map<string, number>(UNARY_OPS.map((op, i) => [op, i]));
const binaryCodes = new Map<string, number>(BINARY_OPS.map((op, i) => [op, i]));
const reduceCodes = new Map<string, number>(REDUCE_OPS.map((op, i) => [op, i]));

/** Packs [rank, shape, then offset and strides per operand] into `layout`. */
function pack(
  shape: readonly number[],
  operands: readonly { offset: number; strides: readonly number[] }[],
): Float64Array | undefined {
  const rank = shape.length;
  if (rank > MAX_RANK) return undefined;
  layout[0] = rank;
  for (let d = 0; d < rank; d++) layout[1 + d] = shape[d];
  let at = 1 + rank;
  for (const operand of operands) {
    layout[at++] = operand.offset;
    for (let d = 0; d < rank; d++) {
      if (operand.strides[d] < 0) return undefined;
      layout[at++] = operand.strides[d];
    }
  }
  return layout;
}

/** `out = op(x)` for float32 views. */
export function unary(
  native: NativeKernels,
  [x]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attributes: KernelAttributes,
): boolean {
  const code = unaryCodes.get(String(attributes.op));
  const X = floatsOf(x);
  const O = floatsOf(out);
  if (code === undefined || !X || !O) return false;
  const packed = pack(out.shape, [x, out]);
  if (!packed) return false;
  native.unary(code, X, O, packed);
  return true;
}

/** Strided element-wise copy (`contiguous()`, `cat`, slicing gradients) for float32. */
export function copy(
  native: NativeKernels,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
): boolean {
  return unary(native, inputs, outputs, { op: 'identity' });
}

/** `out = op(a, b)` for float32 arithmetic; comparisons and logic run on js. */
export function binary(
  native: NativeKernels,
  [a, b]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attributes: KernelAttributes,
): boolean {
  const code = binaryCodes.get(String(attributes.op));
  const A = floatsOf(a);
  const B = floatsOf(b);
  const O = floatsOf(out);
  if (code === undefined || !A || !B || !O) return false;
  const packed = pack(out.shape, [a, b, out]);
  if (!packed) return false;
  native.binary(code, A, B, O, packed);
  return true;
}

/** sum/max/min over axes of a float32 view into the contiguous keep-dim output. */
export function reduce(
  native: NativeKernels,
  [x]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attributes: KernelAttributes,
): boolean {
  const code = reduceCodes.get(String(attributes.op));
  const X = floatsOf(x);
  const O = floatsOf(out);
  if (code === undefined || !X || !O || out.offset !== 0) return false;
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const axis of (attributes.axes as readonly number[] | undefined) ?? []) reduced[axis] = true;
  // Output strides over x's shape: 0 along reduced axes, row-major over the kept ones.
  const outStrides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    outStrides[d] = reduced[d] ? 0 : stride;
    if (!reduced[d]) stride *= x.shape[d];
  }
  const packed = pack(x.shape, [x, { offset: 0, strides: outStrides }]);
  if (!packed) return false;
  native.reduce(code, X, O, stride, packed);
  return true;
}

/** `out = condition ? a : b` for float32 a and b (the causal mask of attention). */
export function where(
  native: NativeKernels,
  [condition, a, b]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
): boolean {
  const A = floatsOf(a);
  const B = floatsOf(b);
  const O = floatsOf(out);
  if (condition.dtype !== 'bool' || !A || !B || !O) return false;
  const packed = pack(out.shape, [condition, a, b, out]);
  if (!packed) return false;
  native.where(arrayOf(condition.buffer) as Uint8Array, A, B, O, packed);
  return true;
}

/** torch.gather of a float32 view with int32 indices (embedding lookups). */
export function gather(
  native: NativeKernels,
  [x, index]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attributes: KernelAttributes,
): boolean {
  const X = floatsOf(x);
  const I = intsOf(index);
  const O = floatsOf(out);
  const axis = Number(attributes.axis);
  if (!X || !I || !O || !(axis >= 0 && axis < x.shape.length)) return false;
  const xStrides = x.strides.map((s, d) => (d === axis ? 0 : s));
  const packed = pack(out.shape, [index, out, { offset: x.offset, strides: xStrides }]);
  if (!packed) return false;
  native.gather(X, I, O, x.shape[axis], x.strides[axis], packed);
  return true;
}
