// Element-wise kernels of the js backend: fill, copy, cast, unary, binary, where.
import {
  fromBfloat16Bits,
  fromFloat16Bits,
  toBfloat16Bits,
  toFloat16Bits,
  type DType,
} from '../../dtype.js';
import { TensorError } from '../../errors.js';
import type { BinaryOp, KernelAttributes, KernelTensor, UnaryOp } from '../types.js';
import { dataOf } from './buffer.js';
import { elementOffsets, isContiguous, sizeOf } from './strided.js';

type Numbers = { [i: number]: number; length: number };

export function fill(
  _inputs: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const value = Number(attrs.value);
  const data = dataOf(out);
  if (out.dtype === 'int64') (data as BigInt64Array).fill(BigInt(Math.trunc(value)));
  else (data as Numbers & { fill(v: number): void }).fill(encode(out.dtype, value));
}

export function copy([x]: readonly KernelTensor[], [out]: readonly KernelTensor[]): void {
  const src = dataOf(x) as Numbers;
  const dst = dataOf(out) as Numbers;
  if (isContiguous(x) && isContiguous(out)) {
    // one block (a part of cat, a loaded tensor): a memcpy
    const size = sizeOf(out);
    (dst as Float32Array).set(
      (src as Float32Array).subarray(x.offset, x.offset + size),
      out.offset,
    );
    return;
  }
  const from = elementOffsets(x, 0);
  const to = elementOffsets(out, 1);
  for (let i = 0; i < from.length; i++) dst[to[i]] = src[from[i]];
}

/** Reads element `i` of raw storage as a number (decoding float16/bfloat16/int64/bool). */
function decoder(dtype: DType, data: unknown): (i: number) => number {
  if (dtype === 'float16') return (i) => fromFloat16Bits((data as Uint16Array)[i]);
  if (dtype === 'bfloat16') return (i) => fromBfloat16Bits((data as Uint16Array)[i]);
  if (dtype === 'int64') return (i) => Number((data as BigInt64Array)[i]);
  return (i) => (data as Numbers)[i];
}

/** Converts a number to the stored representation of `dtype` (except int64). */
function encode(dtype: DType, value: number): number {
  switch (dtype) {
    case 'bool':
      return value !== 0 ? 1 : 0;
    case 'float16':
      return toFloat16Bits(value);
    case 'bfloat16':
      return toBfloat16Bits(value);
    case 'int32':
    case 'int8':
    case 'uint8':
      return Number.isFinite(value) ? Math.trunc(value) : 0;
    default:
      return value;
  }
}

export function cast([x]: readonly KernelTensor[], [out]: readonly KernelTensor[]): void {
  const read = decoder(x.dtype, dataOf(x));
  const offsets = elementOffsets(x, 0);
  const dst = dataOf(out);
  if (out.dtype === 'int64') {
    const d = dst as BigInt64Array;
    for (let i = 0; i < offsets.length; i++) {
      const v = read(offsets[i]);
      d[i] = BigInt(Number.isFinite(v) ? Math.trunc(v) : 0);
    }
    return;
  }
  const d = dst as Numbers;
  for (let i = 0; i < offsets.length; i++) d[i] = encode(out.dtype, read(offsets[i]));
}

/** Error function to ~1e-15: Maclaurin series below 2.5, Lentz's continued fraction of erfc above. */
export function erf(x: number): number {
  // Series for small |x|, continued-fraction-free complementary form for large |x| via erfc.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)); converges fast here.
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // Continued fraction for erfc (Lentz), accurate for ax >= 2.5.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => Math.max(x, 0),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))),
  silu: (x) => x / (1 + Math.exp(-x)),
  sin: Math.sin,
  cos: Math.cos,
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  floor: Math.floor,
  erf,
  not: (x) => (x ? 0 : 1),
};

export function unary(
  [x]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const f = UNARY[attrs.op as UnaryOp];
  if (!f) throw new TensorError('unsupported', `unary: unknown op ${String(attrs.op)}`);
  const src = dataOf(x) as Numbers;
  const dst = dataOf(out) as Numbers;
  const n = sizeOf(out);
  if (isContiguous(x)) {
    const o = x.offset;
    for (let i = 0; i < n; i++) dst[i] = f(src[o + i]);
    return;
  }
  const offsets = elementOffsets(x, 0);
  for (let i = 0; i < n; i++) dst[i] = f(src[offsets[i]]);
}

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: (a, b) => (a > b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a < b || Number.isNaN(a) ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  and: (a, b) => (a && b ? 1 : 0),
  or: (a, b) => (a || b ? 1 : 0),
};

export function binary(
  [a, b]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const op = attrs.op as BinaryOp;
  const f = BINARY[op];
  if (!f) throw new TensorError('unsupported', `binary: unknown op ${String(attrs.op)}`);
  const x = dataOf(a) as Numbers;
  const y = dataOf(b) as Numbers;
  const dst = dataOf(out) as Numbers;
  const n = sizeOf(out);
  if (out.dtype === 'int32' && op === 'div') {
    // Integer division truncates toward zero; division by zero gives 0 like a cast of +-inf.
    const g = (p: number, q: number) => (q === 0 ? 0 : Math.trunc(p / q));
    loop(a, b, n, (i, j, k) => {
      dst[k] = g(x[i], y[j]);
    });
    return;
  }
  if (isContiguous(a) && isContiguous(b)) {
    const oa = a.offset;
    const ob = b.offset;
    if (op === 'add') for (let i = 0; i < n; i++) dst[i] = x[oa + i] + y[ob + i];
    else if (op === 'sub') for (let i = 0; i < n; i++) dst[i] = x[oa + i] - y[ob + i];
    else if (op === 'mul') for (let i = 0; i < n; i++) dst[i] = x[oa + i] * y[ob + i];
    else if (op === 'div') for (let i = 0; i < n; i++) dst[i] = x[oa + i] / y[ob + i];
    else for (let i = 0; i < n; i++) dst[i] = f(x[oa + i], y[ob + i]);
    return;
  }
  const oa = elementOffsets(a, 0);
  const ob = elementOffsets(b, 1);
  // The common broadcast ops get their own loops; the rest go through the table.
  if (op === 'add') for (let k = 0; k < n; k++) dst[k] = x[oa[k]] + y[ob[k]];
  else if (op === 'sub') for (let k = 0; k < n; k++) dst[k] = x[oa[k]] - y[ob[k]];
  else if (op === 'mul') for (let k = 0; k < n; k++) dst[k] = x[oa[k]] * y[ob[k]];
  else if (op === 'div') for (let k = 0; k < n; k++) dst[k] = x[oa[k]] / y[ob[k]];
  else for (let k = 0; k < n; k++) dst[k] = f(x[oa[k]], y[ob[k]]);
}

function loop(
  a: KernelTensor,
  b: KernelTensor,
  n: number,
  body: (i: number, j: number, k: number) => void,
): void {
  const oa = elementOffsets(a, 0);
  const ob = elementOffsets(b, 1);
  for (let k = 0; k < n; k++) body(oa[k], ob[k], k);
}

export function where(
  [condition, a, b]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
): void {
  const c = dataOf(condition) as Numbers;
  const x = dataOf(a) as Numbers;
  const y = dataOf(b) as Numbers;
  const dst = dataOf(out) as Numbers;
  const oc = elementOffsets(condition, 0);
  const oa = elementOffsets(a, 1);
  const ob = elementOffsets(b, 2);
  for (let k = 0; k < oc.length; k++) dst[k] = c[oc[k]] ? x[oa[k]] : y[ob[k]];
}

/** `geluBackward`: dx = dy * d gelu(x) / dx, exact (erf) or tanh-approximated; contiguous inputs. */
export function geluBackward(
  [xT, dyT]: readonly KernelTensor[],
  [dxT]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const x = dataOf(xT) as Float32Array | Float64Array;
  const dy = dataOf(dyT) as Float32Array | Float64Array;
  const dx = dataOf(dxT) as Float32Array | Float64Array;
  const n = sizeOf(xT);
  const tanhForm = attrs.approximate === 'tanh';
  for (let i = 0; i < n; i++) {
    const v = x[xT.offset + i];
    let derivative: number;
    if (tanhForm) {
      const t = Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
      const inner = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
      derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * inner;
    } else {
      // Phi(x) + x * phi(x)
      derivative = 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / SQRT_2PI;
    }
    dx[dxT.offset + i] = dy[dyT.offset + i] * derivative;
  }
}
