// Shape ops. Most are views: they share storage and only change shape, strides and offset.
import { record } from '../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import { checkShape, normalizeAxis, type Shape, shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import { allocate } from './kernel.js';

/** A new tensor viewing `t`'s storage with another layout (no autograd). */
export function viewOf(
  t: Tensor,
  shape: Shape,
  strides: readonly number[],
  offset: number,
): Tensor {
  return new Tensor(t.storage.retain(), shape, t.dtype, strides, offset);
}

/** A stride-0 broadcast view of `t` as `shape` (no autograd; shapes must be compatible). */
export function broadcastView(t: Tensor, shape: Shape): Tensor {
  const lead = shape.length - t.rank;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const own = t.shape[i - lead];
    if (own === d) return t.strides[i - lead];
    if (own === 1) return 0;
    throw new TensorError(
      'shape_mismatch',
      `expand: cannot expand ${formatShape(t.shape)} to ${formatShape(shape)}`,
    );
  });
  return viewOf(t, shape, strides, t.offset);
}

/** A fresh contiguous copy of `x` (no autograd). */
export function denseCopy(x: Tensor): Tensor {
  const out = allocate(x.backend, x.shape, x.dtype);
  x.backend.run('copy', [x.kernelView()], [out.kernelView()], {});
  return out;
}

/**
 * Copies `x` into a fresh contiguous tensor when it is not one (or when `force`); otherwise returns
 * a view sharing its storage.
 */
export function contiguous(x: Tensor, force = false): Tensor {
  const out = x.isContiguous && !force ? viewOf(x, x.shape, x.strides, x.offset) : denseCopy(x);
  return record('contiguous', [x], out);
}

function resolveShape(size: number, shape: Shape, what: string, from: Shape): number[] {
  const inferred = shape.indexOf(-1);
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const out = shape.slice();
  if (inferred >= 0) {
    if (shape.indexOf(-1, inferred + 1) >= 0 || known === 0 || size % known !== 0) {
      throw new TensorError(
        'shape_mismatch',
        `${what}: cannot reshape ${formatShape(from)} to ${formatShape(shape)}`,
      );
    }
    out[inferred] = size / known;
  }
  checkShape(out, what);
  if (shapeSize(out) !== size) {
    throw new TensorError(
      'shape_mismatch',
      `${what}: cannot reshape ${formatShape(from)} (${size} elements) to ${formatShape(shape)}`,
    );
  }
  return out;
}

/**
 * Returns `x` with a new shape of the same size (one dimension may be -1); a view when `x` is
 * contiguous, a copy otherwise.
 *
 * @example
 * ```ts
 * arange(6).reshape([2, -1]); // shape [2,3]
 * ```
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = resolveShape(x.size, shape, 'reshape', x.shape);
  const source = x.isContiguous ? x : denseCopy(x);
  const out = viewOf(source, target, contiguousStridesOf(target), source.offset);
  if (source !== x) source.dispose();
  return record('reshape', [x], out);
}

function contiguousStridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Like {@link reshape} but throws instead of copying when `x` is not contiguous. */
export function view(x: Tensor, shape: Shape): Tensor {
  if (!x.isContiguous) {
    throw new TensorError(
      'invalid_argument',
      `view: tensor of shape ${formatShape(x.shape)} is not contiguous; use reshape`,
    );
  }
  return reshape(x, shape);
}

/** Flattens dimensions `startAxis..endAxis` (default all) into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis(startAxis, x.rank, 'flatten');
  const e = normalizeAxis(endAxis, x.rank, 'flatten');
  const merged = shapeSize(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** Inserts a dimension of size 1 at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.rank + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes size-1 dimensions (all of them, or only `axis`). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    );
  const a = normalizeAxis(axis, x.rank, 'squeeze');
  if (x.shape[a] !== 1) return reshape(x, x.shape);
  return reshape(x, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)]);
}

/**
 * Reorders dimensions (a view): `permute(x, [2, 0, 1])` of shape [A,B,C] has shape [C,A,B].
 */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const resolved = axes.map((a) => normalizeAxis(a, x.rank, 'permute'));
  if (resolved.length !== x.rank || new Set(resolved).size !== x.rank) {
    throw new TensorError(
      'invalid_argument',
      `permute: [${axes}] is not a permutation of ${x.rank} axes`,
    );
  }
  const out = viewOf(
    x,
    resolved.map((a) => x.shape[a]),
    resolved.map((a) => x.strides[a]),
    x.offset,
  );
  return record('permute', [x], out, [], { axes: resolved });
}

/** Swaps two dimensions (default the last two; a view). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = normalizeAxis(axis0, x.rank, 'transpose');
  const b = normalizeAxis(axis1, x.rank, 'transpose');
  const axes = x.shape.map((_, i) => i);
  axes[a] = b;
  axes[b] = a;
  return permute(x, axes);
}

/** Broadcasts size-1 (or missing leading) dimensions to `shape` without copying; -1 keeps one. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const lead = shape.length - x.rank;
  const target = shape.map((d, i) => (d === -1 ? x.shape[i - lead] : d));
  return record('expand', [x], broadcastView(x, target));
}

/**
 * Slices every dimension by `[start, end)` pairs (missing dims are kept whole; negative indices
 * count from the end; ends are clamped). A view.
 *
 * @example
 * ```ts
 * slice(x, [[0, 2], [1, -1]]); // rows 0..1, columns 1..n-2
 * ```
 */
export function slice(x: Tensor, ranges: readonly (readonly [number, number] | null)[]): Tensor {
  if (ranges.length > x.rank) {
    throw new TensorError(
      'invalid_argument',
      `slice: ${ranges.length} ranges for a tensor of rank ${x.rank}`,
    );
  }
  const starts: number[] = [];
  const shape: number[] = [];
  let offset = x.offset;
  x.shape.forEach((d, i) => {
    const range = ranges[i] ?? [0, d];
    const clamp = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    const start = clamp(range[0]);
    const end = Math.max(start, clamp(range[1]));
    starts.push(start);
    shape.push(end - start);
    offset += start * x.strides[i];
  });
  return record('slice', [x], viewOf(x, shape, x.strides, offset), [], { starts });
}

/** `length` elements of `axis` starting at `start` (a view). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normalizeAxis(axis, x.rank, 'narrow');
  const s = start < 0 ? start + x.shape[a] : start;
  if (s < 0 || length < 0 || s + length > x.shape[a]) {
    throw new TensorError(
      'invalid_argument',
      `narrow: [${start}, ${start}+${length}) is outside axis ${axis} of size ${x.shape[a]}`,
    );
  }
  const ranges: [number, number][] = x.shape.map((d) => [0, d]);
  ranges[a] = [s, s + length];
  return slice(x, ranges);
}

/** {@link reshape} without autograd (for index tensors and internal views). */
export function reshapeNoGrad(x: Tensor, shape: Shape): Tensor {
  const target = resolveShape(x.size, shape, 'reshape', x.shape);
  const source = x.isContiguous ? x : denseCopy(x);
  const out = viewOf(source, target, contiguousStridesOf(target), source.offset);
  if (source !== x) source.dispose();
  return out;
}
