import type { DType } from '../dtype.js';
import { zeros } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { transpose } from '../ops/shape.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { uniform } from './init.js';
import { Module } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
  /** Generator for the initial weights (default: the global one). */
  generator?: Generator;
}

/**
 * y = x W^T + b with `weight [outFeatures, inFeatures]` (PyTorch's layout), initialised like
 * PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
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
    this.weight = this.addParameter(
      'weight',
      uniform(zeros([outFeatures, inFeatures], { dtype }), -bound, bound, options),
    );
    this.bias =
      options.bias === false
        ? null
        : this.addParameter(
            'bias',
            uniform(zeros([outFeatures], { dtype }), -bound, bound, options),
          );
  }

  /** `[..., inFeatures] -> [..., outFeatures]`. */
  forward(x: Tensor): Tensor {
    const weightT = transpose(this.weight);
    const y = matmul(x, weightT);
    weightT.dispose();
    if (!this.bias) return y;
    const out = add(y, this.bias);
    y.dispose();
    return out;
  }
}
