import type { DType } from '../dtype.js';
import { ones, zeros } from '../ops/creation.js';
import { layerNorm, rmsNorm } from '../ops/normalization.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, GPT-2's `layer_norm_epsilon`). */
  epsilon?: number;
  /** Learn a scale (default true). */
  elementwiseAffine?: boolean;
  /** Learn a shift when affine (default true; LLaMA-style models use false). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/**
 * Layer normalization over the last dimension with learned `weight` (ones) and `bias` (zeros).
 *
 * @example
 * ```ts
 * const ln = new LayerNorm(768);
 * ln.forward(x); // x [B, T, 768]
 * ```
 */
export class LayerNorm extends Module {
  /** `[normalizedSize]` or null. */
  readonly weight: Tensor | null;
  /** `[normalizedSize]` or null. */
  readonly bias: Tensor | null;
  /** See {@link LayerNormOptions.epsilon}. */
  readonly epsilon: number;

  constructor(
    readonly normalizedSize: number,
    options: LayerNormOptions = {},
  ) {
    super();
    const affine = options.elementwiseAffine ?? true;
    const dtype = options.dtype ?? 'float32';
    this.epsilon = options.epsilon ?? 1e-5;
    this.weight = affine ? this.addParameter('weight', ones([normalizedSize], { dtype })) : null;
    this.bias =
      affine && options.bias !== false
        ? this.addParameter('bias', zeros([normalizedSize], { dtype }))
        : null;
  }

  /** Normalizes the last dimension. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, { epsilon: this.epsilon });
  }
}

/** Options of {@link RMSNorm}. */
export interface RMSNormOptions {
  /** Added to the mean square (default 1e-5; LLaMA uses 1e-5 or 1e-6). */
  epsilon?: number;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/** RMS normalization over the last dimension with a learned `weight` (ones), as in LLaMA. */
export class RMSNorm extends Module {
  /** `[normalizedSize]`. */
  readonly weight: Tensor;
  /** See {@link RMSNormOptions.epsilon}. */
  readonly epsilon: number;

  constructor(
    readonly normalizedSize: number,
    options: RMSNormOptions = {},
  ) {
    super();
    this.epsilon = options.epsilon ?? 1e-5;
    this.weight = this.addParameter(
      'weight',
      ones([normalizedSize], { dtype: options.dtype ?? 'float32' }),
    );
  }

  /** Normalizes the last dimension. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, { epsilon: this.epsilon });
  }
}
