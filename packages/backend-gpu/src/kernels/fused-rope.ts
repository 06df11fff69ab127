// Fused rotary embeddings (half-split layout, Hugging Face's rotate_half): one invocation per
// pair (i, j = i + D/2) of a row of x [B, H, T, D], reading the row's cos and sin at position t
// of table b (or of the one table when cos and sin are [1, 1, T, D]).
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import type { GpuBuffer } from '../buffers.js';
import { grid, type Runtime } from '../runtime.js';
import { ENTRY_256, PARAMS_WGSL } from '../wgsl.js';

const gpuOf = (t: KernelTensor) => (t.buffer as GpuBuffer).gpu;

/**
 * rope: out_i = x_i cos_i - x_j sin_i, out_j = x_j cos_j + x_i sin_j; with `transpose`,
 * out_i = x_i cos_i + x_j sin_j, out_j = x_j cos_j - x_i sin_i (the gradient).
 */
export function rope(
  rt: Runtime,
  [x, cos, sin]: readonly KernelTensor[],
  out: KernelTensor,
  attrs: KernelAttributes,
): void {
  const [B, H, T, D] = x.shape;
  const pairs = (B * H * T * D) / 2;
  if (pairs === 0) return;
  const transpose = Boolean(attrs.transpose);
  rt.run({
    kernel: 'rope',
    key: `rope:${transpose}`,
    shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> COS: array<f32>;
@group(0) @binding(3) var<storage, read> SIN: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
${ENTRY_256}
  // p: [pairs, H, T, half, tableBatchStride, xOffset, cosOffset, sinOffset, outOffset]
  if (id >= p(0u)) { return; }
  let H = p(1u); let T = p(2u); let half = p(3u);
  let row = id / half;
  let i = id % half;
  let t = row % T;
  let b = row / (H * T);
  let x1 = X[p(5u) + row * 2u * half + i];
  let x2 = X[p(5u) + row * 2u * half + half + i];
  let table = b * p(4u) + t * 2u * half + i;
  let c1 = COS[p(6u) + table]; let c2 = COS[p(6u) + table + half];
  let s1 = SIN[p(7u) + table]; let s2 = SIN[p(7u) + table + half];
  ${
    transpose
      ? 'let sinI = -s2; let sinJ = -s1; // the transposed rotation'
      : 'let sinI = s1; let sinJ = s2;'
  }
  O[p(8u) + row * 2u * half + i] = x1 * c1 - x2 * sinI;
  O[p(8u) + row * 2u * half + half + i] = x2 * c2 + x1 * sinJ;
}`,
    buffers: [gpuOf(x), gpuOf(cos), gpuOf(sin), gpuOf(out)],
    params: [
      pairs,
      H,
      T,
      D / 2,
      cos.shape[0] === 1 ? 0 : T * D,
      x.offset,
      cos.offset,
      sin.offset,
      out.offset,
    ],
    workgroups: grid(pairs),
  });
}
