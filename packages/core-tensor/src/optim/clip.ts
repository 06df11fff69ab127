import { noGrad } from '../autograd/grad-mode.js';
import { tidy } from '../engine.js';
import { TensorError } from '../errors.js';
import { zeros } from '../ops/creation.js';
import { add, div, minimum, mul, sqrt } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { Tensor } from '../tensor.js';

/**
 * Scales the gradients of `params` in place so that their global L2 norm is at most `maxNorm`
 * (Pascanu et al., 2013) and returns the norm before clipping as a scalar tensor (reading it
 * needs no synchronisation until you call `item()` or `data()`).
 *
 * @example
 * ```ts
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * ```
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0))
    throw new TensorError('invalid_argument', `clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const withGrad = params.filter((p) => p.grad);
  return noGrad(() =>
    tidy(() => {
      if (withGrad.length === 0) return zeros([]);
      let total = zeros([], { dtype: withGrad[0].grad!.dtype, backend: withGrad[0].backend.name });
      for (const p of withGrad) total = add(total, sum(mul(p.grad!, p.grad!)));
      const norm = sqrt(total);
      // coefficient = min(1, maxNorm / (norm + 1e-6)), applied to every gradient.
      const coefficient = minimum(div(maxNorm, add(norm, 1e-6)), 1);
      for (const p of withGrad) p.grad!.assign(mul(p.grad!, coefficient));
      return norm;
    }),
  );
}
