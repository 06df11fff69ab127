// WGSL decoders of the packed weight formats of `quantizedMatmul`: for each format one function
// `weight(n, k) -> f32`, the element W[n, k] of the [N, K] weight, read straight from the packed
// parts (bound as W0, W1, W2) so no float copy of W is ever made. Layouts are core-tensor's
// (js/quantized.ts). Parts are stored packed as on the host (buffers.ts: four bytes or two
// halves a word), read element by element with packed-wgsl.ts's `load_W<i>`, which returns a
// byte as 0..255, an int8 sign-extended, a half as its 16 bits and a float32 as its bits.
// Parameter words used: K @2, groupSize @3, part offsets (in elements) @6-8.
import type { DType } from '@llmkit/core-tensor';
import { NF4_CODE } from '@llmkit/core-tensor/backend';
import { loadWgsl } from './packed-wgsl.js';

/** The packed formats of `quantizedMatmul`. */
export type QuantizedFormat = 'fp16' | 'bf16' | 'int8' | 'int4' | 'nf4' | 'q8_0' | 'q4_0';

/** Bytes of one llama.cpp block of 32 weights: an fp16 scale plus 32 int8 or 16 nibble bytes. */
export const BLOCK_BYTES = { q8_0: 34, q4_0: 18 } as const;

/** The dtype of each part a format takes, in kernel order (`symmetric` matters for int4). */
export function partDTypes(format: QuantizedFormat, symmetric: boolean): DType[] {
  switch (format) {
    case 'fp16':
      return ['float16'];
    case 'bf16':
      return ['bfloat16'];
    case 'int8':
      return ['int8', 'float32'];
    case 'int4':
      return symmetric ? ['uint8', 'float32'] : ['uint8', 'float32', 'float32'];
    case 'nf4':
      return ['uint8', 'float32'];
    case 'q8_0':
    case 'q4_0':
      return ['uint8'];
  }
}

// Exact conversions: exp2 and unpack2x16float may be approximate or flush subnormals on some
// drivers, so halves are rebuilt bit by bit (a subnormal half is m * 2^-24, a normal f32).
const HELPERS_WGSL = /* wgsl */ `
fn halfToF32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 31u;
  let m = h & 1023u;
  if (e == 0u) {
    let v = f32(m) * 5.9604644775390625e-8;
    return select(v, -v, sign != 0u);
  }
  if (e == 31u) { return bitcast<f32>(sign | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}
// A byte (0..255) read as int8 (two's complement).
fn int8Of(b: u32) -> f32 { return f32(bitcast<i32>(b << 24u) >> 24u); }
`;

// The 16 NF4 code values as their float32 bits, so the shader holds exactly core-tensor's table.
function nf4Table(): string {
  const bits = new Uint32Array(NF4_CODE.buffer, NF4_CODE.byteOffset, NF4_CODE.length);
  const values = Array.from(bits, (b) => `bitcast<f32>(0x${b.toString(16)}u)`);
  return `var<private> NF4: array<f32, 16> = array<f32, 16>(\n  ${values.join(',\n  ')});`;
}

function body(format: QuantizedFormat, symmetric: boolean): string {
  switch (format) {
    case 'fp16':
      return 'return halfToF32(load_W0(p(6u) + n * p(2u) + k));';
    case 'bf16':
      return 'return bitcast<f32>(load_W0(p(6u) + n * p(2u) + k) << 16u);';
    case 'int8':
      return 'return f32(bitcast<i32>(load_W0(p(6u) + n * p(2u) + k))) * bitcast<f32>(load_W1(p(7u) + n));';
    case 'int4':
    case 'nf4': {
      // Two codes a byte, element 2i in the high nibble; one scale per group of G along k.
      const scale = 'bitcast<f32>(load_W1(p(7u) + group))';
      const value =
        format === 'nf4'
          ? `NF4[code] * ${scale}`
          : symmetric
            ? `(f32(code) - 8.0) * ${scale}`
            : `f32(code) * ${scale} + bitcast<f32>(load_W2(p(8u) + group))`;
      return `let K = p(2u);
  let byte = load_W0(p(6u) + (n * K + k) / 2u);
  let code = select(byte >> 4u, byte & 15u, (k & 1u) == 1u);
  let group = n * (K / p(3u)) + k / p(3u);
  return ${value};`;
    }
    case 'q8_0':
    case 'q4_0': {
      // Row n holds K/32 blocks; a block starts with its fp16 scale d (little-endian bytes).
      // q8_0: 32 int8 values; q4_0: byte j holds element j (low nibble) and j + 16 (high).
      const value =
        format === 'q8_0'
          ? `let byte = load_W0(at + 2u + j);
  return int8Of(byte) * d;`
          : `let byte = load_W0(at + 2u + (j & 15u));
  return (f32(select(byte & 15u, byte >> 4u, j >= 16u)) - 8.0) * d;`;
      return `let at = p(6u) + (n * (p(2u) / 32u) + k / 32u) * ${BLOCK_BYTES[format]}u;
  let d = halfToF32(load_W0(at) | (load_W0(at + 1u) << 8u));
  let j = k % 32u;
  ${value}`;
    }
  }
}

/**
 * Bindings 2.. of the packed parts and `fn weight(n: u32, k: u32) -> f32` for `format` (the
 * parameter block and x at binding 1 are the caller's; the output binds after the parts).
 */
export function weightWgsl(format: QuantizedFormat, symmetric: boolean): string {
  const parts = partDTypes(format, symmetric).map((dtype, i) => loadWgsl(`W${i}`, i + 2, dtype));
  return `${parts.join('\n')}
${HELPERS_WGSL}
${format === 'nf4' ? nf4Table() : ''}
fn weight(n: u32, k: u32) -> f32 {
  ${body(format, symmetric)}
}
`;
}
