import { TensorError } from './errors.js';

/**
 * Element types. `float32`, `float64`, `int32` and `bool` are compute dtypes (ops run on them;
 * `float64` exists for gradient checks and may be missing on fast backends). `float16`,
 * `bfloat16`, `int8`, `uint8` and `int64` are storage-only: tensors of these types hold weights
 * and ids read from files and are converted with `.to(dtype)` before computing.
 */
export type DType =
  | 'float32'
  | 'float64'
  | 'int32'
  | 'bool'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int64';

/** The typed array that holds each dtype on the CPU (`float16`/`bfloat16` are raw bits). */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Int8Array
  | BigInt64Array;

/** Every dtype, in a fixed order. */
export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'int32',
  'bool',
  'float16',
  'bfloat16',
  'int8',
  'uint8',
  'int64',
];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  bool: 1,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  uint8: 1,
  int64: 8,
};

/** True for dtypes ops can compute in. */
export function isComputeDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'int32' || dtype === 'bool';
}

/** True for `float32` and `float64`, the dtypes that carry gradients. */
export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** True for the 16-bit float storage dtypes a weight may keep: `bfloat16` and `float16`. */
export function isHalfDType(dtype: DType): boolean {
  return dtype === 'bfloat16' || dtype === 'float16';
}

/** Allocates a zeroed typed array of `size` elements for `dtype`. */
export function makeTypedArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
    case 'uint8':
      return new Uint8Array(size);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(size);
    case 'int8':
      return new Int8Array(size);
    case 'int64':
      return new BigInt64Array(size);
    default:
      throw new TensorError('invalid_argument', `unknown dtype ${String(dtype)}`);
  }
}

/** Checks that `array` is the typed array class that stores `dtype`. */
export function typedArrayMatches(dtype: DType, array: TypedArray): boolean {
  const expected = makeTypedArray(dtype, 0);
  return Object.getPrototypeOf(array) === Object.getPrototypeOf(expected);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Converts a number to IEEE half-precision bits, rounding to nearest even. */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  e = half;
  return sign | e;
}

/** Converts IEEE half-precision bits to a number. */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Converts a number to bfloat16 bits (the top half of float32), rounding to nearest even. */
export function toBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  const rounded = x + 0x7fff + ((x >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Converts bfloat16 bits to a number. */
export function fromBfloat16Bits(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}
