// WGSL conversions between the word forms of every dtype and f32/i32 values, used by `cast`.
// Word forms (what packed-wgsl.ts's load_X returns and store_O takes; two words for 64-bit
// types): float32 bits, int32 and int8 as (sign-extended) i32, uint8 and bool as u32,
// float16/bfloat16 as their 16 bits, and the little-endian word pairs of float64 and int64.
import type { DType } from '@llmkit/core-tensor';

export const CONVERT_WGSL = /* wgsl */ `
fn f16ToF32(h: u32) -> f32 {
  let sign = select(1.0, -1.0, (h & 0x8000u) != 0u);
  let e = (h >> 10u) & 0x1fu;
  let m = f32(h & 0x3ffu);
  if (e == 0u) { return sign * m * 5.960464477539063e-8; }
  if (e == 31u) {
    if (m != 0.0) { return nanValue(); }
    return sign * infinity();
  }
  return sign * (1.0 + m / 1024.0) * exp2(f32(e) - 15.0);
}
fn f32ToF16(v: f32) -> u32 {
  // Round to nearest even, as the js backend's toFloat16Bits.
  let x = bitcast<u32>(v);
  let sign = (x >> 16u) & 0x8000u;
  let exponent = (x >> 23u) & 0xffu;
  var mantissa = x & 0x7fffffu;
  if (exponent == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u, mantissa != 0u); }
  let e = i32(exponent) - 127 + 15;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mantissa = mantissa | 0x800000u;
    let shift = u32(14 - e);
    var half = mantissa >> shift;
    let rest = mantissa & ((1u << shift) - 1u);
    let halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (half & 1u) == 1u)) { half += 1u; }
    return sign | half;
  }
  var half = (u32(e) << 10u) | (mantissa >> 13u);
  let rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u) == 1u)) { half += 1u; }
  return sign | half;
}
fn f32ToBf16(v: f32) -> u32 {
  let x = bitcast<u32>(v);
  if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu) != 0u) { return ((x >> 16u) | 0x40u) & 0xffffu; }
  return ((x + 0x7fffu + ((x >> 16u) & 1u)) >> 16u) & 0xffffu;
}
fn truncToI32(v: f32) -> i32 {
  // Math.trunc then wrap modulo 2^32 (Int32Array semantics); non-finite gives 0.
  if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) { return 0; }
  let t = trunc(v);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let m = t - floor(t / 4294967296.0) * 4294967296.0;
  return bitcast<i32>(u32(m));
}
fn f64ToF32(lo: u32, hi: u32) -> f32 {
  // Rounds to nearest even; results below float32's normal range flush to signed zero.
  let sign = hi & 0x80000000u;
  let e = (hi >> 20u) & 0x7ffu;
  if (e == 0x7ffu) {
    if ((hi & 0xfffffu) != 0u || lo != 0u) { return nanValue(); }
    return bitcast<f32>(sign | 0x7f800000u);
  }
  let fe = i32(e) - 1023 + 127;
  if (fe >= 255) { return bitcast<f32>(sign | 0x7f800000u); }
  if (fe <= 0) { return bitcast<f32>(sign); }
  var bits = (u32(fe) << 23u) | ((hi & 0xfffffu) << 3u) | (lo >> 29u);
  let rest = lo & 0x1fffffffu;
  if (rest > 0x10000000u || (rest == 0x10000000u && (bits & 1u) == 1u)) { bits += 1u; }
  return bitcast<f32>(sign | bits);
}
fn f32ToF64(v: f32) -> vec2<u32> {
  let x = bitcast<u32>(v);
  let sign = x & 0x80000000u;
  let e = (x >> 23u) & 0xffu;
  var m = x & 0x7fffffu;
  if (e == 0xffu) { return vec2<u32>(0u, sign | 0x7ff00000u | (m >> 3u) | select(0u, 0x80000u, m != 0u)); }
  if (e == 0u) {
    if (m == 0u) { return vec2<u32>(0u, sign); }
    // Subnormal float32: normalise.
    let top = firstLeadingBit(m);
    let shift = 23u - top;
    m = (m << shift) & 0x7fffffu;
    let de = u32(1 - 127 + 1023) - shift;
    return vec2<u32>(m << 29u, sign | (de << 20u) | (m >> 3u));
  }
  let de = e - 127u + 1023u;
  return vec2<u32>(m << 29u, sign | (de << 20u) | (m >> 3u));
}
fn i64ToF32(lo: u32, hi: u32) -> f32 {
  let h = bitcast<i32>(hi);
  return f32(h) * 4294967296.0 + f32(lo);
}
`;

/** How a stored dtype is read: as an f32 value (`f`) or an i32 value (`i`). */
export function readExpression(
  dtype: DType,
  word: string,
  pair: string,
): { kind: 'f' | 'i'; expr: string } {
  switch (dtype) {
    case 'float32':
      return { kind: 'f', expr: `bitcast<f32>(${word})` };
    case 'float16':
      return { kind: 'f', expr: `f16ToF32(${word})` };
    case 'bfloat16':
      return { kind: 'f', expr: `bitcast<f32>(${word} << 16u)` };
    case 'float64':
      return { kind: 'f', expr: `f64ToF32(${pair}.x, ${pair}.y)` };
    case 'int64':
      return { kind: 'i', expr: `bitcast<i32>(${pair}.x)` };
    case 'int32':
    case 'int8':
      return { kind: 'i', expr: `bitcast<i32>(${word})` };
    default:
      return { kind: 'i', expr: `i32(${word})` };
  }
}

/**
 * WGSL statements storing value `v` (of kind f or i) as `dtype` at element `o` of `O`: through
 * `store_O` (packed-wgsl.ts) for one-word forms, as a word pair for float64/int64. int64 read as
 * an f32 goes through i64ToF32 (handled by the caller).
 */
export function writeStatements(dtype: DType, kind: 'f' | 'i'): string {
  const asF = kind === 'f' ? 'v' : 'f32(v)';
  const asI = kind === 'f' ? 'truncToI32(v)' : 'v';
  const nonZero = kind === 'f' ? '(bitcast<u32>(v) & 0x7fffffffu) != 0u' : 'v != 0';
  switch (dtype) {
    case 'float32':
      return `store_O(o, bitcast<u32>(${asF}));`;
    case 'float16':
      return `store_O(o, f32ToF16(${asF}));`;
    case 'bfloat16':
      return `store_O(o, f32ToBf16(${asF}));`;
    case 'float64':
      return `let d = f32ToF64(${asF}); O[2u * o] = d.x; O[2u * o + 1u] = d.y;`;
    case 'int32':
      return `store_O(o, bitcast<u32>(${asI}));`;
    case 'int8':
      return `store_O(o, bitcast<u32>(${asI}));`;
    case 'uint8':
      return `store_O(o, bitcast<u32>(${asI}));`;
    case 'bool':
      return `store_O(o, select(0u, 1u, ${nonZero}));`;
    case 'int64': {
      if (kind === 'i')
        return 'O[2u * o] = bitcast<u32>(v); O[2u * o + 1u] = select(0u, 0xffffffffu, v < 0);';
      return `let t = trunc(v); let big = abs(t) >= 2147483648.0 && (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
    let hiF = floor(t / 4294967296.0);
    let lo = select(bitcast<u32>(truncToI32(v)), u32(t - hiF * 4294967296.0), big);
    let hi = select(select(0u, 0xffffffffu, truncToI32(v) < 0), bitcast<u32>(i32(hiF)), big);
    O[2u * o] = lo; O[2u * o + 1u] = hi;`;
    }
  }
}
