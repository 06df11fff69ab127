// int8 per output channel, symmetric (absmax, as LLM.int8()'s vector-wise weights): each row r
// has scale s[r] = max|w[r, :]| / 127 and q = clamp(round(w / s), -127, 127) with round half away
// from zero; w ~ q * s. Error per weight <= s[r] / 2. A zero row has s = 0 and q = 0.
import { roundHalfAway } from './types.js';

/** Quantizes a `[rows, columns]` row-major weight; returns int8 values and a scale per row. */
export function quantizeInt8(
  values: Float32Array,
  rows: number,
  columns: number,
): { weight: Int8Array; scales: Float32Array } {
  const weight = new Int8Array(rows * columns);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * columns, (r + 1) * columns);
    let absmax = 0;
    for (const v of row) absmax = Math.max(absmax, Math.abs(v));
    const scale = Math.fround(absmax / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < columns; c++) {
      const q = roundHalfAway(Math.fround(row[c] / scale));
      weight[r * columns + c] = Math.max(-127, Math.min(127, q));
    }
  }
  return { weight, scales };
}

/** `w[r, c] = q[r, c] * scales[r]`. */
export function dequantizeInt8(
  weight: Int8Array,
  scales: Float32Array,
  rows: number,
  columns: number,
): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns; c++) out[r * columns + c] = weight[r * columns + c] * scales[r];
  return out;
}
