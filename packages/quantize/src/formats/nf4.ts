// NF4, QLoRA's 4-bit NormalFloat (Dettmers et al., 2023, "QLoRA"): each block of B (default 64)
// weights along a row has a float32 absmax; a weight is stored as the index of the nearest of the
// 16 code values below (quantiles of N(0, 1) scaled to [-1, 1], with an exact 0) to w / absmax.
// w ~ NF4_CODE[index] * absmax. Packing as bitsandbytes: first weight of a pair in the high nibble.
// The error of a weight is at most half the gap between the two codes around w / absmax, times
// absmax (at most 0.1519 absmax, between -1 and -0.6962).
//
// Double quantization (QLoRA section 3): the absmax values (one per block) are themselves
// quantized: their mean is subtracted, and each group of 256 is int8 absmax-quantized with a float32
// scale. (bitsandbytes uses its dynamic 8-bit map for this step; llmkit uses linear int8, whose
// error on a scale is at most its group's scale / 2.) That is 8 + 32/256 bits per 64 weights
// instead of 32: 0.127 bits per weight instead of 0.5.
import { NF4_CODE } from '@llmkit/core-tensor/backend';
import { packNibbles, unpackNibbles } from './int4.js';
import { roundHalfAway, SCALE_BLOCK } from './types.js';

/** bitsandbytes' NF4 code values (float32), index 7 is 0: the table the js reference kernel decodes with. */
export { NF4_CODE };

// Midpoints between neighbouring codes: index = number of midpoints below x.
const MIDPOINTS = Float32Array.from({ length: 15 }, (_, i) =>
  Math.fround((NF4_CODE[i] + NF4_CODE[i + 1]) / 2),
);

/** The index of the code nearest to `x` in [-1, 1] (ties go to the larger code). */
export function nearestNf4(x: number): number {
  let index = 0;
  while (index < 15 && x >= MIDPOINTS[index]) index++;
  return index;
}

/** NF4 parts: packed codes `[rows, columns / 2]` and one float32 absmax per block. */
export interface Nf4Parts {
  /** Two indices a byte, first in the high nibble. */
  weight: Uint8Array;
  /** Absmax of each block. */
  absmax: Float32Array;
}

/** Quantizes a row-major weight of `size` elements in blocks of `blockSize`. */
export function quantizeNf4(values: Float32Array, blockSize: number): Nf4Parts {
  const blocks = values.length / blockSize;
  const codes = new Uint8Array(values.length);
  const absmax = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const block = values.subarray(b * blockSize, (b + 1) * blockSize);
    let m = 0;
    for (const v of block) m = Math.max(m, Math.abs(v));
    absmax[b] = m;
    for (let i = 0; i < blockSize; i++)
      codes[b * blockSize + i] = m === 0 ? 7 : nearestNf4(Math.fround(block[i] / m));
  }
  return { weight: packNibbles(codes), absmax };
}

/** Float weights of NF4 parts. */
export function dequantizeNf4(parts: Nf4Parts, blockSize: number): Float32Array {
  const codes = unpackNibbles(parts.weight);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++)
    out[i] = NF4_CODE[codes[i]] * parts.absmax[Math.floor(i / blockSize)];
  return out;
}

/** Doubly quantized absmax: int8 codes, a float32 scale per 256, and the mean subtracted first. */
export interface QuantizedScales {
  /** `round((absmax - mean) / scale)` per block. */
  absmax_quantized: Int8Array;
  /** Scale of each group of 256 blocks: max|absmax - mean| / 127. */
  absmax_scales: Float32Array;
  /** The mean of all absmax values. */
  absmax_mean: Float32Array;
}

/** Quantizes NF4 block scales (QLoRA's double quantization, with linear int8). */
export function quantizeScales(absmax: Float32Array): QuantizedScales {
  let sum = 0;
  for (const a of absmax) sum += a;
  const mean = Math.fround(sum / absmax.length);
  const groups = Math.ceil(absmax.length / SCALE_BLOCK);
  const quantized = new Int8Array(absmax.length);
  const scales = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const end = Math.min(absmax.length, (g + 1) * SCALE_BLOCK);
    let m = 0;
    for (let i = g * SCALE_BLOCK; i < end; i++) m = Math.max(m, Math.abs(absmax[i] - mean));
    const scale = Math.fround(m / 127);
    scales[g] = scale;
    if (scale === 0) continue;
    for (let i = g * SCALE_BLOCK; i < end; i++) {
      const q = roundHalfAway(Math.fround(Math.fround(absmax[i] - mean) / scale));
      quantized[i] = Math.max(-127, Math.min(127, q));
    }
  }
  return { absmax_quantized: quantized, absmax_scales: scales, absmax_mean: Float32Array.of(mean) };
}

/** The float32 absmax values of {@link quantizeScales}: `q * scale + mean`. */
export function dequantizeScales(parts: QuantizedScales): Float32Array {
  const out = new Float32Array(parts.absmax_quantized.length);
  const mean = parts.absmax_mean[0];
  for (let i = 0; i < out.length; i++)
    out[i] = parts.absmax_quantized[i] * parts.absmax_scales[Math.floor(i / SCALE_BLOCK)] + mean;
  return out;
}
