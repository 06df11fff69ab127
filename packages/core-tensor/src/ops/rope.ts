// Rotary position embeddings (Su et al., 2021, "RoFormer") in Hugging Face LLaMA's half-split
// layout: the head dimension is split into halves [x1, x2] and out = x * cos + rotate_half(x) *
// sin, rotate_half(x) = [-x2, x1]. One pass of the backend's `rope` kernel when it has one (its
// gradient is the same kernel with the transposed rotation); composed from narrow / neg / cat /
// mul / add otherwise, and whenever cos or sin need a gradient.
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { cat } from './combine.js';
import { add, mul, neg } from './elementwise.js';
import { runKernel } from './kernel.js';
import { contiguous, narrow } from './shape.js';

/**
 * Rotates `x [B, H, T, D]` (D even) by the angles whose cosines and sines `cos` and `sin` hold,
 * `[B or 1, 1, T, D]` (each angle repeated over both halves, as Hugging Face's tables):
 * `x * cos + rotate_half(x) * sin`.
 *
 * @example
 * ```ts
 * const q2 = rope(q, cos, sin); // q [1, 16, 5, 128], cos and sin [1, 1, 5, 128]
 * ```
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const D = x.shape[x.rank - 1];
  if (x.rank < 1 || D % 2 !== 0) {
    throw new TensorError(
      'shape_mismatch',
      `rope: the last dimension of x ${formatShape(x.shape)} must be even (two halves)`,
    );
  }
  return canUseFusedRope(x, cos, sin) ? fusedRope(x, cos, sin) : composedRope(x, cos, sin);
}

/** The reference: x * cos + cat([-x2, x1]) * sin, as ops. */
function composedRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const axis = x.rank - 1;
  const half = x.shape[axis] / 2;
  const x1 = narrow(x, axis, 0, half);
  const x2 = narrow(x, axis, half, half);
  const rotated = cat([neg(x2), x1], axis); // rotate_half
  return add(mul(x, cos), mul(rotated, sin));
}

/** Rank-4 float x with tables `[1 or B, 1, T, D]` of its dtype, on a backend with `rope`. */
function canUseFusedRope(x: Tensor, cos: Tensor, sin: Tensor): boolean {
  if (!x.backend.supports('rope') || x.rank !== 4 || x.size === 0) return false;
  if (x.dtype !== 'float32' && x.dtype !== 'float64') return false;
  if (isGradEnabled() && (cos.requiresGrad || sin.requiresGrad)) return false;
  const [B, , T, D] = x.shape;
  return [cos, sin].every(
    (t) =>
      t.rank === 4 &&
      t.dtype === x.dtype &&
      (t.shape[0] === 1 || t.shape[0] === B) &&
      t.shape[1] === 1 &&
      t.shape[2] === T &&
      t.shape[3] === D &&
      t.shape[0] === cos.shape[0],
  );
}

function fusedRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const tables = noGrad(() => [contiguous(cos), contiguous(sin)]);
  const out = noGrad(() => runRope(x, tables[0], tables[1], false));
  record('rope', [x], out, tables);
  for (const t of tables) t.dispose();
  return out;
}

/**
 * The `rope` kernel on x (made contiguous); `transpose` applies the transposed rotation, which
 * is rope's gradient with respect to x (gradients.ts).
 */
export function runRope(x: Tensor, cos: Tensor, sin: Tensor, transpose: boolean): Tensor {
  const dense = contiguous(x);
  const [out] = runKernel('rope', [dense, cos, sin], [{ shape: x.shape, dtype: x.dtype }], {
    transpose,
  });
  dense.dispose();
  return out;
}
