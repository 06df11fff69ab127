// layerNorm and rmsNorm: one autograd node each, on the backend's fused kernels when it has them
// (rmsNorm's gradient is composed from ops), composed from element-wise ops otherwise.
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
 * x / sqrt(mean(x^2) + eps) * weight, as in LLaMA (Hugging Face's LlamaRMSNorm). One pass of the
 * backend's `rmsNorm` kernel when it has one.
 *
 * @example
 * ```ts
 * rmsNorm(x, weight, { epsilon: 1e-6 }); // x [B, T, C], weight [C]
 * ```
 */
export function rmsNorm(x: Tensor, weight?: Tensor | null, options: NormOptions = {}): Tensor {
  const epsilon = options.epsilon ?? 1e-5;
  // The kernel takes a weight [C] of x's dtype; anything else broadcasts on the composed path.
  const weightFits =
    !weight ||
    (weight.rank === 1 && weight.shape[0] === x.shape[x.rank - 1] && weight.dtype === x.dtype);
  const fused =
    x.backend.supports('rmsNorm') &&
    x.rank > 0 &&
    x.size > 0 &&
    weightFits &&
    (x.dtype === 'float32' || x.dtype === 'float64');
  return fused ? fusedRmsNorm(x, weight, epsilon) : composedRmsNorm(x, weight, epsilon);
}

/** The backend's kernel; records one node whose gradient (gradients.ts) uses the saved rstd. */
function fusedRmsNorm(x: Tensor, weight: Tensor | null | undefined, epsilon: number): Tensor {
  const C = x.shape[x.rank - 1];
  const R = x.size / C;
  const flat = reshapeNoGrad(x, [R, C]); // a dense copy when x is a strided view
  const [y, rstd] = noGrad(() =>
    tidy(() =>
      runKernel(
        'rmsNorm',
        [flat, ...(weight ? [contiguous(weight)] : [])],
        [
          { shape: [R, C], dtype: x.dtype },
          { shape: [R], dtype: x.dtype },
        ],
        { epsilon, hasWeight: !!weight },
      ),
    ),
  );
  const out = reshapeNoGrad(y, x.shape);
  y.dispose();
  const inputs = [x, ...(weight ? [weight] : [])];
  record('rmsNorm', inputs, out, [flat, rstd, ...(weight ? [weight] : [])], {
    hasWeight: !!weight,
  });
  flat.dispose();
  rstd.dispose();
  return out;
}

/** The reference: x * rsqrt(mean(x^2) + eps) * weight, as element-wise ops. */
function composedRmsNorm(x: Tensor, weight: Tensor | null | undefined, epsilon: number): Tensor {
  const squares = mul(x, x);
  const meanSquare = mean(squares, -1, { keepDim: true });
  const shifted = add(meanSquare, epsilon);
  const scale = rsqrt(shifted);
  const normed = mul(x, scale);
  for (const t of [squares, meanSquare, shifted, scale]) t.dispose();
  if (!weight) return normed;
  const out = mul(normed, weight);
  normed.dispose();
  return out;
}
