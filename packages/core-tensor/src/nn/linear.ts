import { type DType, isHalfDType } from '../dtype.js';
import { toStorage } from './storage.js';
import { zeros } from '../ops/creation.js';
import { linear } from '../ops/linear.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { uniform } from './init.js';
import { Module } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
  /**
   * Weight dtype (default float32). `bfloat16` / `float16` keep the weight in 16 bits, frozen (no
   * gradient; the input still gets one, so adapters train over it); the bias stays float32.
   */
  dtype?: DType;
  /** Generator for the initial weights (default: the global one). */
  generator?: Generator;
}

/**
 * y = x W^T + b with `weight [outFeatures, inFeatures]` (PyTorch's layout), initialised like
 * PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. The weight may be float32 (trained)
 * or bfloat16 / float16 (a model kept in its stored dtype: frozen, multiplied without a float
 * copy).
 *
 * @example
 * ```ts
 * const layer = new Linear(4, 2);
 * layer.forward(randn([8, 4])); // [8, 2]
 * ```
 */
export class Linear extends Module {
  /** `[outFeatures, inFeatures]`. */
  readonly weight: Tensor;
  /** `[outFeatures]`, or null without bias. */
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(Math.max(1, inFeatures));
    const dtype = options.dtype ?? 'float32';
    const half = isHalfDType(dtype);
    const weight = uniform(zeros([outFeatures, inFeatures]), -bound, bound, options);
    this.weight = this.addParameter('weight', half ? toStorage(weight, dtype) : weight);
    this.bias =
      options.bias === false
        ? null
        : this.addParameter(
            'bias',
            uniform(
              zeros([outFeatures], { dtype: half ? 'float32' : dtype }),
              -bound,
              bound,
              options,
            ),
          );
  }

  /** `[..., inFeatures] -> [..., outFeatures]`. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
