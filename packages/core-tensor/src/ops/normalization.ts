// layerNorm (one autograd node; fused kernels when the backend has them) and rmsNorm (composed).
import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { tidy } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import { shapeSize } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, mul, rsqrt, sub } from './elementwise.js';
import { runKernel } from './kernel.js';
import { mean } from './reduce.js';
import { contiguous, reshape, reshapeNoGrad } from './shape.js';

/** Options of {@link layerNorm} and {@link rmsNorm}. */
export interface NormOptions {
  /** Added to the variance (mean square for RMSNorm) before the square root (default 1e-5). */
  epsilon?: number;
}

/**
 * Layer normalization (Ba et al., 2016) over the last dimension: (x - mean) / sqrt(var + eps)
 * * weight + bias, with the biased variance, like `torch.nn.functional.layer_norm`.
 *
 * @example
 * ```ts
 * layerNorm(x, weight, bias, { epsilon: 1e-5 }); // x [B, T, C], weight and bias [C]
 * ```
 */
export function layerNorm(
  x: Tensor,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: NormOptions = {},
): Tensor {
  const C = x.shape[x.rank - 1];
  for (const p of [weight, bias]) {
    if (p && (p.rank !== 1 || p.shape[0] !== C)) {
      throw new TensorError(
        'shape_mismatch',
        `layerNorm: parameter ${formatShape(p.shape)} does not match the last dimension of ${formatShape(x.shape)}`,
      );
    }
  }
  const epsilon = options.epsilon ?? 1e-5;
  const R = C === 0 ? 0 : shapeSize(x.shape) / C;
  const flat = reshapeNoGrad(x, [R, C]);
  const [y, meanRows, rstdRows] = noGrad(() =>
    tidy(() => layerNormForward(flat, weight, bias, epsilon)),
  );
  const out = reshape(y, x.shape);
  y.dispose();
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  record('layerNorm', inputs, out, [flat, meanRows, rstdRows, ...(weight ? [weight] : [])], {
    hasWeight: !!weight,
    hasBias: !!bias,
  });
  for (const t of [flat, meanRows, rstdRows]) t.dispose();
  return out;
}

function layerNormForward(
  x: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  epsilon: number,
): Tensor[] {
  const [R, C] = x.shape;
  if (x.backend.supports('layerNorm') && R > 0) {
    const inputs = [
      x,
      ...(weight ? [contiguous(weight)] : []),
      ...(bias ? [contiguous(bias)] : []),
    ];
    const outs = runKernel(
      'layerNorm',
      inputs,
      [
        { shape: [R, C], dtype: x.dtype },
        { shape: [R], dtype: x.dtype },
        { shape: [R], dtype: x.dtype },
      ],
      { epsilon, hasWeight: !!weight, hasBias: !!bias },
    );
    for (const t of inputs.slice(1)) t.dispose();
    return outs;
  }
  const m = mean(x, 1, { keepDim: true });
  const centered = sub(x, m);
  const variance = mean(mul(centered, centered), 1, { keepDim: true });
  const rstd = rsqrt(add(variance, epsilon));
  let y = mul(centered, rstd);
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return [y, reshape(m, [R]), reshape(rstd, [R])];
}

/**
 * RMS normalization (Zhang and Sennrich, 2019) over the last dimension:
 * x / sqrt(mean(x^2) + eps) * weight, as in LLaMA.
 */
export function rmsNorm(x: Tensor, weight?: Tensor | null, options: NormOptions = {}): Tensor {
  const squares = mul(x, x);
  const meanSquare = mean(squares, -1, { keepDim: true });
  const shifted = add(meanSquare, options.epsilon ?? 1e-5);
  const scale = rsqrt(shifted);
  const normed = mul(x, scale);
  for (const t of [squares, meanSquare, shifted, scale]) t.dispose();
  if (!weight) return normed;
  const out = mul(normed, weight);
  normed.dispose();
  return out;
}
