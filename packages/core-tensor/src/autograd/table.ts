// The gradient table's storage: rules keyed by op name. Rules for the core ops live in
// gradients.ts; ops defined elsewhere (indexing, normalization, losses) add theirs beside the op
// with defineGradient. This module imports nothing, so any op module may register at load time.
import type { Tensor } from '../tensor.js';
import type { InputInfo, OpAttributes } from './node.js';

/** What a gradient rule sees. */
export interface GradientContext {
  /** Gradient of the loss with respect to the op's output. */
  readonly grad: Tensor;
  /** Tensors the forward saved (see each op). */
  readonly saved: readonly Tensor[];
  /** Attributes the forward recorded. */
  readonly attributes: OpAttributes;
  /** Shapes, dtypes and grad flags of the inputs. */
  readonly inputs: readonly InputInfo[];
}

/** A gradient rule: one gradient (or null) per input, written in terms of ops. */
export type GradientRule = (context: GradientContext) => (Tensor | null)[];

/** Gradient rules registered with {@link defineGradient}, keyed by op name. */
export const GRADIENTS: Record<string, GradientRule> = {};

/**
 * Adds the gradient rule of `op` to the table.
 *
 * @example
 * ```ts
 * defineGradient('double', ({ grad }) => [mul(grad, 2)]);
 * ```
 */
export function defineGradient(op: string, rule: GradientRule): void {
  GRADIENTS[op] = rule;
}
