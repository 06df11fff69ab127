// The layout of attention's keys and values: `[B, H, S, D]` views whose (b, h) blocks of S x D
// elements are each dense and evenly spaced, so a KV cache can hand kernels views of a buffer
// preallocated for more positions than it holds yet (no copy per decoding step).
import type { KernelTensor } from './types.js';

/**
 * Elements from one (b, h) block of a `[B, H, S, D]` view to the next, when every block is
 * dense (`strides[2] = D`, `strides[3] = 1`) and the blocks are evenly spaced (`strides[0] =
 * H * strides[1]`); undefined for any other layout. A contiguous tensor gives `S * D`.
 *
 * @example
 * ```ts
 * const stride = headStrideOf(k); // k [1, 12, 40, 64] viewed from a [1, 12, 1024, 64] buffer: 65536
 * ```
 */
export function headStrideOf(t: Pick<KernelTensor, 'shape' | 'strides'>): number | undefined {
  if (t.shape.length !== 4) return undefined;
  const [B, H, S, D] = t.shape;
  const [s0, s1, s2, s3] = t.strides;
  if ((D > 1 && s3 !== 1) || (S > 1 && s2 !== D)) return undefined;
  const block = S * D;
  const stride = H > 1 ? s1 : B > 1 ? s0 : block;
  if (stride < block) return undefined;
  if (B > 1 && s0 !== H * stride) return undefined;
  return stride;
}
