import { noGrad } from '../autograd/grad-mode.js';
import { tidy } from '../engine.js';
import { TensorError } from '../errors.js';
import { zerosLike } from '../ops/creation.js';
import { add, div, mul, sqrt, sub } from '../ops/elementwise.js';
import { Optimizer, type ParamsInput } from './optimizer.js';

/** Options of {@link AdamW}. */
export interface AdamWOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  epsilon: number;
  /** Decoupled weight decay (default 0.01, like PyTorch); use a group with 0 for biases and norms. */
  weightDecay: number;
}

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter, 2019), PyTorch's formulas. Uses the
 * backend's fused `adamw` kernel when it has one.
 *
 * @example
 * ```ts
 * const optimizer = new AdamW([
 *   { params: decayed, weightDecay: 0.1 },
 *   { params: notDecayed, weightDecay: 0 },
 * ], { lr: 3e-4 });
 * ```
 */
export class AdamW extends Optimizer<AdamWOptions> {
  constructor(params: ParamsInput<AdamWOptions>, options: Partial<AdamWOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], epsilon: 1e-8, weightDecay: 0.01, ...options });
  }

  protected validate(o: AdamWOptions): void {
    if (!(o.lr >= 0))
      throw new TensorError('invalid_argument', `AdamW: lr must be >= 0, got ${o.lr}`);
    for (const b of o.betas) {
      if (!(b >= 0 && b < 1))
        throw new TensorError(
          'invalid_argument',
          `AdamW: betas must be in [0, 1), got [${o.betas}]`,
        );
    }
    if (!(o.epsilon >= 0))
      throw new TensorError('invalid_argument', `AdamW: epsilon must be >= 0, got ${o.epsilon}`);
  }

  /** Applies one update to every parameter with a gradient. */
  step(): void {
    noGrad(() => {
      for (const { params, options: o } of this.paramGroups) {
        for (const p of params) {
          if (!p.grad) continue;
          const s = this.stateOf(p, () => ({ expAvg: zerosLike(p), expAvgSq: zerosLike(p) }));
          s.step++;
          const { expAvg: m, expAvgSq: v } = s.tensors;
          const [beta1, beta2] = o.betas;
          const grad = p.grad;
          if (p.backend.supports('adamw') && p.isContiguous && grad.isContiguous) {
            const attrs = {
              lr: o.lr,
              beta1,
              beta2,
              epsilon: o.epsilon,
              weightDecay: o.weightDecay,
              step: s.step,
            };
            p.backend.run(
              'adamw',
              [p, grad, m, v].map((t) => t.kernelView()),
              [],
              attrs,
            );
            continue;
          }
          tidy(() => {
            const decayed = o.weightDecay !== 0 ? mul(p, 1 - o.lr * o.weightDecay) : p;
            m.assign(add(mul(m, beta1), mul(grad, 1 - beta1)));
            v.assign(add(mul(v, beta2), mul(mul(grad, grad), 1 - beta2)));
            const mHat = div(m, 1 - beta1 ** s.step);
            const denominator = add(sqrt(div(v, 1 - beta2 ** s.step)), o.epsilon);
            p.assign(sub(decayed, mul(div(mHat, denominator), o.lr)));
          });
        }
      }
    });
  }
}
