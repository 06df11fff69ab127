// The `quantizedMatmul` kernel: a product with a weight kept in a packed quantized format
// (@llmkit/quantize makes them), decoding one weight row at a time into a K-long scratch row, so
// no float copy of the whole weight is ever made. Formats and their inputs (contiguous, the
// weight W is [N, K] row-major: one row per output feature):
//   fp16 / bf16  [bits float16|bfloat16 [N, K]]                           w = the half's value
//   int8         [q int8 [N, K], scales float32 [N]]                       w = q * s[n]
//   int4         [packed uint8 [N, K/2], scales [N, K/G], minimums [N, K/G] when !symmetric]
//                two codes a byte, first in the high nibble;  w = (c - 8) s  or  c s + min
//   nf4          [packed uint8 [N, K/2], absmax [N, K/G]]                  w = NF4[c] * absmax
//   q8_0         [blocks uint8 [N, K/32 * 34]]  per block: fp16 d, 32 int8 q      w = q d
//   q4_0         [blocks uint8 [N, K/32 * 18]]  per block: fp16 d, 16 bytes; byte j holds
//                element j (low nibble) and j + 16 (high nibble)           w = (c - 8) d
// Attribute `activations: 'int8'` (forward products of int8, symmetric int4, q8_0 and q4_0, K a
// multiple of 32): llama.cpp's arithmetic. Each row of x is quantized in blocks of 32 as Q8_0
// (x86 quantize_row_q8_0: amax = max |x_j|, d = fp16(amax / 127), q_j = round-half-even(x_j *
// (127 / amax)) in float32), and out = sum over blocks of w_scale * d * sum_j w_code q_j, with
// w_code the integer code (c - 8 for the 4-bit formats) and w_scale the block's d (q8_0, q4_0),
// the group's scale (int4) or the row's (int8).
import { fromBfloat16Bits, fromFloat16Bits, toFloat16Bits } from '../../dtype.js';
import { TensorError } from '../../errors.js';
import type { KernelAttributes, KernelTensor } from '../types.js';
import { dataOf } from './buffer.js';

/** bitsandbytes' NF4 code values (QLoRA), as float32; index 7 is 0. */
export const NF4_CODE = Float32Array.of(
  -1.0,
  -0.6961928009986877,
  -0.5250730514526367,
  -0.39491748809814453,
  -0.28444138169288635,
  -0.18477343022823334,
  -0.09105003625154495,
  0.0,
  0.07958029955625534,
  0.16093020141124725,
  0.24611230194568634,
  0.33791524171829224,
  0.44070982933044434,
  0.5626170039176941,
  0.7229568362236023,
  1.0,
);

/** Writes row n of the packed weight (K values) into `row`. */
function decodeRow(
  format: string,
  parts: readonly KernelTensor[],
  n: number,
  K: number,
  groupSize: number,
  symmetric: boolean,
  row: Float64Array,
): void {
  const data = parts.map((p) => dataOf(p));
  switch (format) {
    case 'fp16':
    case 'bf16': {
      const bits = data[0] as Uint16Array;
      const convert = format === 'fp16' ? fromFloat16Bits : fromBfloat16Bits;
      for (let k = 0; k < K; k++) row[k] = convert(bits[n * K + k]);
      return;
    }
    case 'int8': {
      const q = data[0] as Int8Array;
      const s = (data[1] as Float32Array)[n];
      for (let k = 0; k < K; k++) row[k] = q[n * K + k] * s;
      return;
    }
    case 'int4':
    case 'nf4': {
      const packed = data[0] as Uint8Array;
      const scales = data[1] as Float32Array;
      const minimums = format === 'int4' && !symmetric ? (data[2] as Float32Array) : null;
      const groups = K / groupSize;
      for (let k = 0; k < K; k++) {
        const byte = packed[(n * K + k) >> 1];
        const code = k & 1 ? byte & 15 : byte >> 4;
        const s = scales[n * groups + Math.floor(k / groupSize)];
        if (format === 'nf4') row[k] = NF4_CODE[code] * s;
        else if (minimums) row[k] = code * s + minimums[n * groups + Math.floor(k / groupSize)];
        else row[k] = (code - 8) * s;
      }
      return;
    }
    case 'q8_0':
    case 'q4_0': {
      const bytes = data[0] as Uint8Array;
      const blockBytes = format === 'q8_0' ? 34 : 18;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const rowStart = n * (K / 32) * blockBytes;
      for (let b = 0; b < K / 32; b++) {
        const at = rowStart + b * blockBytes;
        const d = fromFloat16Bits(view.getUint16(at, true));
        for (let j = 0; j < (format === 'q8_0' ? 32 : 16); j++) {
          if (format === 'q8_0') row[b * 32 + j] = view.getInt8(at + 2 + j) * d;
          else {
            const byte = bytes[at + 2 + j];
            row[b * 32 + j] = ((byte & 15) - 8) * d;
            row[b * 32 + j + 16] = ((byte >> 4) - 8) * d;
          }
        }
      }
      return;
    }
    default:
      throw new TensorError('invalid_argument', `quantizedMatmul: unknown format '${format}'`);
  }
}

/** Formats that take `activations: 'int8'`. */
const INT8_ACTIVATION_FORMATS = ['int8', 'int4', 'q8_0', 'q4_0'];

/**
 * Row x [K] (K a multiple of 32, read from `start`) quantized as llama.cpp's Q8_0 activations,
 * the `activations: 'int8'` arithmetic: codes in [-127, 127] and each block's fp16-rounded d.
 *
 * @example
 * ```ts
 * const { codes, d } = quantizeActivations(new Float32Array(32).fill(0.5), 0, 32);
 * // codes: 32 x 127; d: [fp16(0.5 / 127)]
 * ```
 */
export function quantizeActivations(
  X: ArrayLike<number>,
  start: number,
  K: number,
): { codes: Int8Array; d: Float64Array } {
  const codes = new Int8Array(K);
  const d = new Float64Array(K / 32);
  for (let b = 0; b < K / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++)
      amax = Math.max(amax, Math.abs(Math.fround(X[start + b * 32 + j])));
    const scale = amax > 0 ? Math.fround(127 / amax) : 0;
    d[b] = fromFloat16Bits(toFloat16Bits(Math.fround(amax / 127)));
    for (let j = 0; j < 32; j++) {
      const q = roundHalfEven(Math.fround(Math.fround(X[start + b * 32 + j]) * scale));
      codes[b * 32 + j] = Math.min(127, Math.max(-127, q));
    }
  }
  return { codes, d };
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Row n of the packed weight as integer codes (c - 8 for the 4-bit formats) and one scale per
 * block of 32 (int8: the row's scale for every block).
 */
function integerRow(
  format: string,
  parts: readonly KernelTensor[],
  n: number,
  K: number,
  groupSize: number,
  codes: Int32Array,
  scales: Float64Array,
): void {
  const data = parts.map((p) => dataOf(p));
  if (format === 'int8') {
    const q = data[0] as Int8Array;
    for (let k = 0; k < K; k++) codes[k] = q[n * K + k];
    scales.fill((data[1] as Float32Array)[n]);
    return;
  }
  if (format === 'int4') {
    const packed = data[0] as Uint8Array;
    const groupScales = data[1] as Float32Array;
    for (let k = 0; k < K; k++) {
      const byte = packed[(n * K + k) >> 1];
      codes[k] = (k & 1 ? byte & 15 : byte >> 4) - 8;
    }
    for (let b = 0; b < K / 32; b++)
      scales[b] = groupScales[n * (K / groupSize) + Math.floor((b * 32) / groupSize)];
    return;
  }
  const bytes = data[0] as Uint8Array;
  const blockBytes = format === 'q8_0' ? 34 : 18;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < K / 32; b++) {
    const at = n * (K / 32) * blockBytes + b * blockBytes;
    scales[b] = fromFloat16Bits(view.getUint16(at, true));
    for (let j = 0; j < 32; j++) {
      if (format === 'q8_0') codes[b * 32 + j] = view.getInt8(at + 2 + j);
      else {
        const byte = bytes[at + 2 + (j & 15)];
        codes[b * 32 + j] = (j < 16 ? byte & 15 : byte >> 4) - 8;
      }
    }
  }
}

function int8ActivationMatmul(
  format: string,
  parts: readonly KernelTensor[],
  x: KernelTensor,
  X: Float32Array | Float64Array,
  O: Float32Array | Float64Array,
  [M, N, K]: [number, number, number],
  groupSize: number,
  symmetric: boolean,
): void {
  if (
    !INT8_ACTIVATION_FORMATS.includes(format) ||
    (format === 'int4' && (!symmetric || groupSize % 32))
  )
    throw new TensorError(
      'invalid_argument',
      `quantizedMatmul: activations 'int8' need int8, q8_0, q4_0 or symmetric int4 with a group a multiple of 32, got ${format}${format === 'int4' ? ` (symmetric ${symmetric}, group ${groupSize})` : ''}`,
    );
  if (K % 32)
    throw new TensorError(
      'invalid_argument',
      `quantizedMatmul: activations 'int8' need K a multiple of 32, got ${K}`,
    );
  const rows = Array.from({ length: M }, (_, m) => quantizeActivations(X, x.offset + m * K, K));
  const codes = new Int32Array(K);
  const scales = new Float64Array(K / 32);
  for (let n = 0; n < N; n++) {
    integerRow(format, parts, n, K, groupSize, codes, scales);
    for (let m = 0; m < M; m++) {
      const { codes: q, d } = rows[m];
      let acc = 0;
      for (let b = 0; b < K / 32; b++) {
        let sum = 0;
        for (let j = b * 32; j < b * 32 + 32; j++) sum += codes[j] * q[j];
        acc += sum * scales[b] * d[b];
      }
      O[m * N + n] = acc;
    }
  }
}

/**
 * `out [M, N] = x [M, K] @ W^T` (attrs.transposed false) or the input gradient
 * `out [M, K] = x [M, N] @ W` (transposed true), W [N, K] packed as `attrs.format`.
 */
export function quantizedMatmul(
  [x, ...parts]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attributes: KernelAttributes,
): void {
  const format = String(attributes.format);
  const transposed = Boolean(attributes.transposed);
  const groupSize = Number(attributes.groupSize ?? 0);
  const symmetric = attributes.symmetric !== false;
  const M = x.shape[0];
  const N = transposed ? x.shape[1] : out.shape[1];
  const K = transposed ? out.shape[1] : x.shape[1];
  const X = dataOf(x) as Float32Array | Float64Array;
  const O = dataOf(out) as Float32Array | Float64Array;
  if (!transposed && attributes.activations === 'int8') {
    int8ActivationMatmul(format, parts, x, X, O, [M, N, K], groupSize, symmetric);
    return;
  }
  const row = new Float64Array(K);
  if (!transposed) {
    for (let n = 0; n < N; n++) {
      decodeRow(format, parts, n, K, groupSize, symmetric, row);
      for (let m = 0; m < M; m++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += X[x.offset + m * K + k] * row[k];
        O[m * N + n] = acc;
      }
    }
    return;
  }
  const acc = new Float64Array(M * K);
  for (let n = 0; n < N; n++) {
    decodeRow(format, parts, n, K, groupSize, symmetric, row);
    for (let m = 0; m < M; m++) {
      const g = X[x.offset + m * N + n];
      if (g === 0) continue;
      for (let k = 0; k < K; k++) acc[m * K + k] += g * row[k];
    }
  }
  O.set(acc);
}
