// llama.cpp's Q8_0 and Q4_0 blocks, byte for byte as ggml's reference quantizers
// (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref` in ggml-quants.c), computed in float32 as C
// does. A row of K weights is K / 32 blocks; each block starts with its scale d as fp16
// (little-endian, rounded to nearest even):
// - Q8_0 (34 bytes): amax = max|x|, d = amax / 127, id = d ? 1 / d : 0, qs[j] = roundf(x[j] id)
//   (int8); x ~ qs d. Error <= d / 2 + 127 |d - fp16(d)|.
// - Q4_0 (18 bytes): m = the x of largest |x| (its sign kept, first one on ties), d = m / -8,
//   id = d ? 1 / d : 0, q = min(15, (int8)(x id + 8.5)) (truncation), byte j = q(x[j]) |
//   q(x[j + 16]) << 4; x ~ (q - 8) d. Error <= |d| / 2, except a weight of sign opposite to m and
//   |x| > 7.5 |d|, clamped to 7 d: error <= |d| (plus the fp16 rounding of d, times 8).
import { fromFloat16Bits, toFloat16Bits } from '@llmkit/core-tensor/backend';
import { roundHalfAway } from './types.js';

const f = Math.fround;

/** Q8_0 blocks of a row-major weight whose rows have a multiple of 32 columns. */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  const blocks = values.length / 32;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = values.subarray(b * 32, b * 32 + 32);
    let amax = 0;
    for (const v of x) amax = Math.max(amax, Math.abs(v));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    view.setUint16(b * 34, toFloat16Bits(d), true);
    for (let j = 0; j < 32; j++) view.setInt8(b * 34 + 2 + j, roundHalfAway(f(x[j] * id)));
  }
  return out;
}

/** Float weights of Q8_0 blocks. */
export function dequantizeQ8_0(blocks: Uint8Array): Float32Array {
  const count = blocks.length / 34;
  const out = new Float32Array(count * 32);
  const view = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
  for (let b = 0; b < count; b++) {
    const d = fromFloat16Bits(view.getUint16(b * 34, true));
    for (let j = 0; j < 32; j++) out[b * 32 + j] = view.getInt8(b * 34 + 2 + j) * d;
  }
  return out;
}

/** Q4_0 blocks of a row-major weight whose rows have a multiple of 32 columns. */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const blocks = values.length / 32;
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = values.subarray(b * 32, b * 32 + 32);
    let amax = 0;
    let max = 0;
    for (const v of x) {
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = f(max / -8);
    const id = d ? f(1 / d) : 0;
    view.setUint16(b * 18, toFloat16Bits(d), true);
    for (let j = 0; j < 16; j++) {
      // (int8_t)(x + 8.5f) truncates toward zero; x * id is in [-8, 8], so the sum is >= 0.5.
      const q0 = Math.min(15, Math.trunc(f(f(x[j] * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(f(f(x[j + 16] * id) + 8.5)));
      out[b * 18 + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Float weights of Q4_0 blocks. */
export function dequantizeQ4_0(blocks: Uint8Array): Float32Array {
  const count = blocks.length / 18;
  const out = new Float32Array(count * 32);
  const view = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
  for (let b = 0; b < count; b++) {
    const d = fromFloat16Bits(view.getUint16(b * 18, true));
    for (let j = 0; j < 16; j++) {
      const byte = blocks[b * 18 + 2 + j];
      out[b * 32 + j] = ((byte & 15) - 8) * d;
      out[b * 32 + j + 16] = ((byte >> 4) - 8) * d;
    }
  }
  return out;
}
