// Dropout (Srivastava et al., 2014) with a mask drawn in core from a seeded generator.
import { TensorError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fromValues } from './creation.js';
import { mul } from './elementwise.js';
import { contiguous } from './shape.js';

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** Apply dropout (default true); when false the input passes through. */
  training?: boolean;
  /** Generator for the mask (default: the global one). */
  generator?: Generator;
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1 / (1 - p), so the expected
 * value is unchanged. Identical masks on every backend for the same seed.
 *
 * @example
 * ```ts
 * const h = dropout(x, 0.1, { training: model.training });
 * ```
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1))
    throw new TensorError('invalid_argument', `dropout: p must be in [0, 1], got ${p}`);
  if (options.training === false || p === 0) return contiguous(x);
  const generator = options.generator ?? defaultGenerator;
  const keepScale = p === 1 ? 0 : 1 / (1 - p);
  const values = new Float64Array(x.size);
  for (let i = 0; i < values.length; i++) values[i] = generator.nextFloat() < p ? 0 : keepScale;
  const mask = fromValues(values, x.shape, { dtype: x.dtype, backend: x.backend.name });
  const out = mul(x, mask);
  mask.dispose();
  return out;
}
