// The fused rotary-embedding kernel of the js backend: Hugging Face LLaMA's half-split layout,
// out = x * cos + rotate_half(x) * sin with rotate_half([x1, x2]) = [-x2, x1].
import type { KernelAttributes, KernelTensor } from '../types.js';
import { floatsOf } from './buffer.js';

/**
 * inputs [x [B, H, T, D], cos [Bc, 1, T, D], sin [Bc, 1, T, D]] (Bc 1 or B), outputs [out]: per
 * pair i < D/2, j = i + D/2, out_i = x_i cos_i - x_j sin_i and out_j = x_j cos_j + x_i sin_j;
 * with `transpose`, out_i = x_i cos_i + x_j sin_j and out_j = x_j cos_j - x_i sin_i (the gradient).
 */
export function rope(
  [xT, cosT, sinT]: readonly KernelTensor[],
  [outT]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [x, cos, sin, out] = [xT, cosT, sinT, outT].map(floatsOf);
  const [B, H, T, D] = xT.shape;
  const half = D / 2;
  const tableBatch = cosT.shape[0] === 1 ? 0 : T * D; // elements from one batch row's table to the next
  const transpose = Boolean(attrs.transpose);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * H + h) * T + t) * D;
        const table = b * tableBatch + t * D;
        for (let i = 0; i < half; i++) {
          const [x1, x2] = [x[xT.offset + row + i], x[xT.offset + row + i + half]];
          const [c1, c2] = [cos[cosT.offset + table + i], cos[cosT.offset + table + i + half]];
          const [s1, s2] = [sin[sinT.offset + table + i], sin[sinT.offset + table + i + half]];
          // The rotation's rows are (c1, -s1), (s2, c2); its transpose's (c1, s2), (-s1, c2).
          const [sinI, sinJ] = transpose ? [-s2, -s1] : [s1, s2];
          out[outT.offset + row + i] = x1 * c1 - x2 * sinI;
          out[outT.offset + row + i + half] = x2 * c2 + x1 * sinJ;
        }
      }
    }
  }
}
