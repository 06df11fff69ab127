// Gradient checkpointing (Chen et al., 2016): run a block without keeping its activations and
// recompute them during backward, trading compute for memory: `checkpointGradient` below is the
// `checkpoint` rule of the gradient table (gradients.ts). Not to be confused with saving a
// training run to disk (@llmkit/trainer's checkpoints).
import { keep } from '../engine.js';
import { TensorError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { backward } from './backward.js';
import { enableGrad, isGradEnabled, noGrad } from './grad-mode.js';
import type { GradientContext } from './gradients.js';
import { record } from './node.js';

/**
 * Runs `fn(...inputs)` without recording its inner graph; during backward the block runs again
 * with gradients on and its gradient flows to `inputs` and to the parameters `fn` uses.
 * `fn` must be deterministic (pass an explicit generator to dropout inside it).
 *
 * @example
 * ```ts
 * const h = gradientCheckpoint((x) => block.forward(x), hidden);
 * ```
 */
export function gradientCheckpoint(
  fn: (...inputs: Tensor[]) => Tensor,
  ...inputs: Tensor[]
): Tensor {
  // Without an input that needs a gradient the node would be unreachable from the loss, and the
  // parameters inside fn would get no gradient: run the block normally then.
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return fn(...inputs);
  const out = noGrad(() => fn(...inputs));
  if (out.requiresGrad) {
    throw new TensorError(
      'invalid_argument',
      'gradientCheckpoint: fn returned a tensor that already records a graph',
    );
  }
  return record('checkpoint', inputs, out, inputs, { fn });
}

/**
 * The old name of {@link gradientCheckpoint}.
 *
 * @deprecated Use `gradientCheckpoint` (the name `checkpoint` is easy to confuse with saving a
 * training run); this alias goes in the next minor release.
 * @example
 * ```ts
 * const h = checkpoint((x) => block.forward(x), hidden); // same as gradientCheckpoint
 * ```
 */
export const checkpoint = gradientCheckpoint;

/** Saved: the block's inputs. Runs the block again with gradients on and backward through it. */
export function checkpointGradient(c: GradientContext): (Tensor | null)[] {
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
}
