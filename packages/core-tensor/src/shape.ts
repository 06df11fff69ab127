import { formatShape, TensorError } from './errors.js';

/** A tensor shape: one non-negative integer per dimension. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar, 0 when any dimension is 0). */
export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** Row-major strides of a contiguous tensor of `shape`, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** Checks that every dimension is a non-negative integer. */
export function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorError(
        'invalid_argument',
        `${what}: shape ${formatShape(shape)} has a dimension that is not a non-negative integer`,
      );
    }
  }
}

/** Resolves a possibly negative axis against `rank`; throws if out of range. */
export function normalizeAxis(axis: number, rank: number, what: string): number {
  const resolved = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || resolved < 0 || resolved >= rank) {
    throw new TensorError(
      'invalid_argument',
      `${what}: axis ${axis} is out of range for a tensor of rank ${rank}`,
    );
  }
  return resolved;
}

/** Broadcasts two shapes NumPy-style, e.g. `[2,1,3]` and `[4,1]` -> `[2,4,3]`. */
export function broadcastShapes(a: Shape, b: Shape, what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError(
        'shape_mismatch',
        `${what}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** True when two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
