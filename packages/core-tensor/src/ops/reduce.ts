// Reductions over axes, with `keepDim`, and the broadcasting inverse `sumToShape`.
import { record } from '../autograd/node.js';
import type { ReduceOp } from '../backend/types.js';
import { isFloatDType } from '../dtype.js';
import { formatShape, TensorError } from '../errors.js';
import { normalizeAxis, type Shape, sameShape, shapeSize } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, mul, sqrt, sub } from './elementwise.js';
import { checkComputeDType, runKernel } from './kernel.js';
import { reshape, reshapeNoGrad, viewOf } from './shape.js';

/** Axes to reduce: one axis, several, or all when omitted. */
export type Axes = number | readonly number[] | undefined;

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep reduced dimensions as size 1 (default false). */
  keepDim?: boolean;
}

function resolveAxes(axes: Axes, rank: number, what: string): number[] {
  const list =
    axes === undefined ? [...Array(rank).keys()] : typeof axes === 'number' ? [axes] : axes;
  const resolved = [...new Set(list.map((a) => normalizeAxis(a, rank, what)))].sort(
    (a, b) => a - b,
  );
  if (resolved.length !== list.length)
    throw new TensorError('invalid_argument', `${what}: repeated axis in [${list}]`);
  return resolved;
}

function reduceKernel(op: ReduceOp, x: Tensor, axes: number[], keepDim: boolean): Tensor {
  checkComputeDType(op, x.backend, x.dtype);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const dtype =
    op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype === 'bool' ? 'int32' : x.dtype;
  const input = x.dtype === 'bool' && dtype === 'int32' ? x.to('int32') : x;
  const [out] = runKernel('reduce', [input], [{ shape: keptShape, dtype }], { op, axes });
  if (input !== x) input.dispose();
  if (keepDim) return out;
  const squeezed = reshape(
    out,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
  out.dispose();
  return squeezed;
}

/**
 * Sum over `axis` (one, several, or all).
 *
 * @example
 * ```ts
 * sum(tensor([[1, 2], [3, 4]]), 1); // [3, 7]
 * ```
 */
export function sum(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  const axes = resolveAxes(axis, x.rank, 'sum');
  const out = reduceKernel('sum', x, axes, options.keepDim ?? false);
  return record('sum', [x], out, [], { axes, keepDim: options.keepDim ?? false });
}

/** Mean over `axis` (one, several, or all). */
export function mean(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  if (!isFloatDType(x.dtype))
    throw new TensorError('dtype_mismatch', `mean: expected a float tensor, got ${x.dtype}`);
  const axes = resolveAxes(axis, x.rank, 'mean');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const total = sum(x, axes, options);
  const out = div(total, count);
  total.dispose();
  return out;
}

function extreme(op: 'max' | 'min', x: Tensor, axis: Axes, options: ReduceOptions): Tensor {
  const axes = resolveAxes(axis, x.rank, op);
  for (const a of axes) {
    if (x.shape[a] === 0)
      throw new TensorError(
        'invalid_argument',
        `${op}: cannot reduce the empty axis ${a} of ${formatShape(x.shape)}`,
      );
  }
  const out = reduceKernel(op, x, axes, options.keepDim ?? false);
  return record(op, [x], out, [x, out], { axes, keepDim: options.keepDim ?? false });
}

/** Maximum over `axis` (gradient split evenly between ties). */
export function max(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  return extreme('max', x, axis, options);
}

/** Minimum over `axis` (gradient split evenly between ties). */
export function min(x: Tensor, axis?: Axes, options: ReduceOptions = {}): Tensor {
  return extreme('min', x, axis, options);
}

function argExtreme(
  op: 'argmax' | 'argmin',
  x: Tensor,
  axis: number | undefined,
  options: ReduceOptions,
): Tensor {
  if (axis === undefined) {
    const flat = reshapeNoGrad(x, [x.size]);
    const out = reduceKernel(op, flat, [0], false);
    flat.dispose();
    return out;
  }
  return reduceKernel(op, x, [normalizeAxis(axis, x.rank, op)], options.keepDim ?? false);
}

/** Index (int32) of the largest element along `axis` (of the flattened tensor when omitted). */
export function argmax(x: Tensor, axis?: number, options: ReduceOptions = {}): Tensor {
  return argExtreme('argmax', x, axis, options);
}

/** Index (int32) of the smallest element along `axis` (of the flattened tensor when omitted). */
export function argmin(x: Tensor, axis?: number, options: ReduceOptions = {}): Tensor {
  return argExtreme('argmin', x, axis, options);
}

/** Options of {@link variance}. */
export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the count in the divisor: 1 (default) is the unbiased estimate, 0 biased. */
  correction?: number;
}

/** Variance over `axis`: mean squared deviation, divided by count - correction. */
export function variance(x: Tensor, axis?: Axes, options: VarianceOptions = {}): Tensor {
  const axes = resolveAxes(axis, x.rank, 'var');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const centerMean = mean(x, axes, { keepDim: true });
  const centered = sub(x, centerMean);
  const squared = mul(centered, centered);
  const total = sum(squared, axes, options);
  const out = div(total, Math.max(0, count - (options.correction ?? 1)));
  for (const t of [centerMean, centered, squared, total]) t.dispose();
  return out;
}

/**
 * Sums a broadcast gradient back to `shape`: leading dimensions and dimensions that were 1 in
 * `shape` are reduced. sumToShape(ones([4,2,3]), [2,1]) has shape [2,1], every value 12.
 */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  // Same shape: a view, never a copy (gradients of transposed weights arrive strided).
  if (sameShape(g.shape, shape))
    return record('reshape', [g], viewOf(g, g.shape, g.strides, g.offset));
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++)
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const total = sum(g, axes, { keepDim: true });
  const out = reshape(total, shape);
  total.dispose();
  if (shapeSize(shape) !== out.size)
    throw new TensorError(
      'shape_mismatch',
      `sumToShape: ${formatShape(g.shape)} to ${formatShape(shape)}`,
    );
  return out;
}

/** Standard deviation over `axis`: sqrt of {@link variance} (same options). */
export function std(x: Tensor, axis?: Axes, options: VarianceOptions = {}): Tensor {
  const v = variance(x, axis, options);
  const out = sqrt(v);
  v.dispose();
  return out;
}
