// Element-wise ops with NumPy broadcasting. Scalars (JS numbers) adopt the tensor's dtype.
import { record } from '../autograd/node.js';
import type { BinaryOp, UnaryOp } from '../backend/types.js';
import { type DType, isFloatDType } from '../dtype.js';
import { TensorError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { full, scalarLike } from './creation.js';
import { backendOf, checkComputeDType, runKernel } from './kernel.js';
import { broadcastView } from './shape.js';

const FLOAT_ONLY = new Set<UnaryOp>([
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'tanh',
  'sigmoid',
  'gelu',
  'geluTanh',
  'silu',
  'sin',
  'cos',
  'reciprocal',
  'erf',
]);

/** Applies the `unary` kernel `op` to `x` and records it for autograd. */
export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkComputeDType(op, x.backend, x.dtype);
  if (
    op === 'not'
      ? x.dtype !== 'bool'
      : x.dtype === 'bool' || (FLOAT_ONLY.has(op) && !isFloatDType(x.dtype))
  ) {
    throw new TensorError('dtype_mismatch', `${op}: unsupported dtype ${x.dtype}`);
  }
  const [out] = runKernel('unary', [x], [{ shape: x.shape, dtype: x.dtype }], { op });
  return record(op, [x], out, [x, out]);
}

const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Turns a number into a scalar tensor like `other`; checks two tensors share a dtype. */
export function operands(what: string, a: TensorLike, b: TensorLike): [Tensor, Tensor, Tensor[]] {
  const temps: Tensor[] = [];
  if (typeof a === 'number' && typeof b === 'number') {
    throw new TensorError('invalid_argument', `${what}: at least one operand must be a tensor`);
  }
  const scalar = (value: number, like: Tensor): Tensor => {
    if (!isFloatDType(like.dtype) && !Number.isInteger(value) && Number.isFinite(value)) {
      throw new TensorError(
        'dtype_mismatch',
        `${what}: scalar ${value} is not an integer, but the tensor is ${like.dtype}; convert it with .to('float32')`,
      );
    }
    const t = scalarLike(value, like);
    temps.push(t);
    return t;
  };
  if (typeof a === 'number') a = scalar(a, b as Tensor);
  if (typeof b === 'number') b = scalar(b, a);
  if (a.dtype !== b.dtype) {
    for (const t of temps) t.dispose();
    throw new TensorError('dtype_mismatch', `${what}: dtype mismatch: ${a.dtype} vs ${b.dtype}`);
  }
  return [a, b, temps];
}

/** Applies the `binary` kernel `op` with broadcasting and records it for autograd. */
export function binary(op: BinaryOp, left: TensorLike, right: TensorLike): Tensor {
  const [a, b, temps] = operands(op, left, right);
  try {
    const backend = backendOf(op, [a, b]);
    checkComputeDType(op, backend, a.dtype);
    if ((op === 'and' || op === 'or') !== (a.dtype === 'bool') && !COMPARISONS.has(op)) {
      throw new TensorError('dtype_mismatch', `${op}: unsupported dtype ${a.dtype}`);
    }
    const shape = broadcastShapes(a.shape, b.shape, op);
    const av = broadcastView(a, shape);
    const bv = broadcastView(b, shape);
    const dtype: DType = COMPARISONS.has(op) ? 'bool' : a.dtype;
    const [out] = runKernel('binary', [av, bv], [{ shape, dtype }], { op }, backend);
    av.dispose();
    bv.dispose();
    return record(op, [a, b], out, op === 'add' || op === 'sub' ? [] : [a, b, out]);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** a + b (broadcasting). */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a - b (broadcasting). */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a * b (broadcasting). */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b (broadcasting; integer division truncates). */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** a ** b (broadcasting). */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** Element-wise maximum. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** Element-wise minimum. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
/** a == b as bool. */
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
/** a != b as bool. */
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
/** a < b as bool. */
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
/** a <= b as bool. */
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
/** a > b as bool. */
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
/** a >= b as bool. */
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);
/** Logical and of bool tensors. */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binary('and', a, b);
/** Logical or of bool tensors. */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binary('or', a, b);
/** Logical not of a bool tensor. */
export const logicalNot = (x: Tensor): Tensor => unary('not', x);

/** -x */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** e^x */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1 / sqrt(x) */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** |x| */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** -1, 0 or 1 by the sign of x. */
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** 1 / (1 + e^-x) */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** x * sigmoid(x) (also called swish). */
export const silu = (x: Tensor): Tensor => unary('silu', x);
/** sin(x) */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** cos(x) */
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** 1 / x */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** x * x */
export const square = (x: Tensor): Tensor => unary('square', x);
/** The largest integer <= x (no gradient). */
export const floor = (x: Tensor): Tensor => unary('floor', x);
/** The error function. */
export const erf = (x: Tensor): Tensor => unary('erf', x);

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `none` for the exact erf form (default), `tanh` for GPT-2's approximation (`gelu_new`). */
  approximate?: 'none' | 'tanh';
}

/**
 * Gaussian error linear unit (Hendrycks and Gimpel, 2016): x * Phi(x), exact or tanh-approximated.
 *
 * @example
 * ```ts
 * gelu(x, { approximate: 'tanh' });
 * ```
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  return unary(options.approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
}

/**
 * Chooses `a` where `condition` is true and `b` elsewhere, broadcasting all three.
 *
 * @example
 * ```ts
 * where(gt(x, 0), x, 0); // relu
 * ```
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (condition.dtype !== 'bool') {
    throw new TensorError(
      'dtype_mismatch',
      `where: condition must be bool, got ${condition.dtype}`,
    );
  }
  // Two numbers give a float32 result, like torch.where(condition, 1.0, 0.0).
  const ownA =
    typeof a === 'number' && typeof b === 'number'
      ? full([], a, { backend: condition.backend.name })
      : null;
  const [x, y, temps] = operands('where', ownA ?? a, b);
  if (ownA) temps.push(ownA);
  try {
    const shape = broadcastShapes(
      broadcastShapes(condition.shape, x.shape, 'where'),
      y.shape,
      'where',
    );
    const views = [condition, x, y].map((t) => broadcastView(t, shape));
    const [out] = runKernel(
      'where',
      views,
      [{ shape, dtype: x.dtype }],
      {},
      backendOf('where', [condition, x, y]),
    );
    for (const v of views) v.dispose();
    return record('where', [condition, x, y], out, [condition]);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** Replaces elements of `x` where `mask` (bool, broadcastable) is true by `value`. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

/** Clamps into [min, max] (either bound may be omitted). */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  let out = x;
  if (min !== undefined) out = maximum(out, min);
  if (max !== undefined) {
    const clamped = minimum(out, max);
    if (out !== x) out.dispose();
    out = clamped;
  }
  return out === x ? add(x, 0) : out;
}
