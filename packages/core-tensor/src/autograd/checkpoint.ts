// Gradient checkpointing (Chen et al., 2016): run a block without keeping its activations and
// recompute them during backward, trading compute for memory.
import { keep } from '../engine.js';
import { TensorError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { backward } from './backward.js';
import { enableGrad, isGradEnabled, noGrad } from './grad-mode.js';
import { record } from './node.js';
import { defineGradient } from './table.js';

/**
 * Runs `fn(...inputs)` without recording its inner graph; during backward the block runs again
 * with gradients on and its gradient flows to `inputs` and to the parameters `fn` uses.
 * `fn` must be deterministic (pass an explicit generator to dropout inside it).
 *
 * @example
 * ```ts
 * const h = checkpoint((x) => block.forward(x), hidden);
 * ```
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, ...inputs: Tensor[]): Tensor {
  // Without an input that needs a gradient the node would be unreachable from the loss, and the
  // parameters inside fn would get no gradient: run the block normally then.
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return fn(...inputs);
  const out = noGrad(() => fn(...inputs));
  if (out.requiresGrad) {
    throw new TensorError(
      'invalid_argument',
      'checkpoint: fn returned a tensor that already records a graph',
    );
  }
  return record('checkpoint', inputs, out, inputs, { fn });
}

defineGradient('checkpoint', (c) => {
  const fn = c.attributes.fn as (...inputs: Tensor[]) => Tensor;
  const detached = c.saved.map((t, i) => {
    const d = t.detach();
    if (c.inputs[i].requiresGrad) d.requiresGrad_();
    return d;
  });
  enableGrad(() => {
    const recomputed = fn(...detached);
    backward(recomputed, c.grad);
    recomputed.dispose();
  });
  return detached.map((d) => {
    const g = d.grad ? keep(d.grad) : null;
    d.dispose();
    return g;
  });
});
