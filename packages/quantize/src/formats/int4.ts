// int4 group-wise: each row splits into groups of G (32, 64 or 128) weights, each with its own
// float32 scale; two 4-bit codes a byte, the first weight of a pair in the high nibble (as
// bitsandbytes packs): byte j of a row = code[2j] << 4 | code[2j + 1].
// - symmetric: s = max|w| / 7, code = clamp(round(w / s), -7, 7) + 8 (1..15), w ~ (code - 8) s;
// - asymmetric: s = (max - min) / 15, code = clamp(round((w - min) / s), 0, 15), w ~ code s + min
//   (a float minimum, as llama.cpp's Q4_1, so the whole [min, max] range is covered).
// Rounding is half away from zero. Error per weight <= s / 2 in both.
import { roundHalfAway } from './types.js';

/** Packed int4 codes `[rows, columns / 2]`, scales `[rows, columns / G]`, minimums when asymmetric. */
export interface Int4Parts {
  /** Two codes a byte, first in the high nibble. */
  weight: Uint8Array;
  /** Scale of each group. */
  scales: Float32Array;
  /** Minimum of each group (asymmetric only). */
  minimums?: Float32Array;
}

/** Quantizes a `[rows, columns]` row-major weight in groups of `groupSize` along each row. */
export function quantizeInt4(
  values: Float32Array,
  rows: number,
  columns: number,
  groupSize: number,
  symmetric: boolean,
): Int4Parts {
  const groups = (rows * columns) / groupSize;
  const codes = new Uint8Array(rows * columns);
  const scales = new Float32Array(groups);
  const minimums = symmetric ? undefined : new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const start = g * groupSize;
    const group = values.subarray(start, start + groupSize);
    if (symmetric) {
      let absmax = 0;
      for (const v of group) absmax = Math.max(absmax, Math.abs(v));
      const scale = Math.fround(absmax / 7);
      scales[g] = scale;
      for (let i = 0; i < groupSize; i++) {
        const q = scale === 0 ? 0 : roundHalfAway(Math.fround(group[i] / scale));
        codes[start + i] = Math.max(-7, Math.min(7, q)) + 8;
      }
    } else {
      let min = Infinity;
      let max = -Infinity;
      for (const v of group) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const scale = Math.fround((max - min) / 15);
      scales[g] = scale;
      (minimums as Float32Array)[g] = min;
      for (let i = 0; i < groupSize; i++) {
        const q = scale === 0 ? 0 : roundHalfAway(Math.fround((group[i] - min) / scale));
        codes[start + i] = Math.max(0, Math.min(15, q));
      }
    }
  }
  return { weight: packNibbles(codes), scales, ...(minimums ? { minimums } : {}) };
}

/** Float weights of int4 parts. */
export function dequantizeInt4(
  parts: Int4Parts,
  rows: number,
  columns: number,
  groupSize: number,
): Float32Array {
  const codes = unpackNibbles(parts.weight);
  const out = new Float32Array(rows * columns);
  for (let i = 0; i < out.length; i++) {
    const g = Math.floor(i / groupSize);
    out[i] = parts.minimums
      ? codes[i] * parts.scales[g] + parts.minimums[g]
      : (codes[i] - 8) * parts.scales[g];
  }
  return out;
}

/** Packs 4-bit codes two a byte, the first in the high nibble: [1, 2, 15] -> [0x12, 0xf0]. */
export function packNibbles(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i += 2) out[i >> 1] = (codes[i] << 4) | (codes[i + 1] ?? 0);
  return out;
}

/** Unpacks {@link packNibbles}: [0x12] -> [1, 2]. */
export function unpackNibbles(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = bytes[i] >> 4;
    out[2 * i + 1] = bytes[i] & 15;
  }
  return out;
}
