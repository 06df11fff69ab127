import { noGrad } from '../autograd/grad-mode.js';
import { tidy } from '../engine.js';
import { TensorError } from '../errors.js';
import { zerosLike } from '../ops/creation.js';
import { add, mul, sub } from '../ops/elementwise.js';
import { Optimizer, type ParamsInput } from './optimizer.js';

/** Options of {@link SGD}. */
export interface SGDOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (Sutskever et al., 2013; default false). */
  nesterov: boolean;
}

/**
 * Stochastic gradient descent with optional momentum and Nesterov momentum, PyTorch's formulas:
 * g += wd p; b = mu b + (1 - dampening) g (b = g on the first step); g = nesterov ? g + mu b : b;
 * p -= lr g.
 *
 * @example
 * ```ts
 * const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected validate(o: SGDOptions): void {
    if (!(o.lr >= 0))
      throw new TensorError('invalid_argument', `SGD: lr must be >= 0, got ${o.lr}`);
    if (!(o.momentum >= 0))
      throw new TensorError('invalid_argument', `SGD: momentum must be >= 0, got ${o.momentum}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new TensorError('invalid_argument', 'SGD: nesterov needs momentum > 0 and dampening 0');
    }
  }

  /** Applies one update. */
  step(): void {
    noGrad(() => {
      for (const { params, options: o } of this.paramGroups) {
        for (const p of params) {
          if (!p.grad) continue;
          tidy(() => {
            let g = p.grad!;
            if (o.weightDecay !== 0) g = add(g, mul(p, o.weightDecay));
            if (o.momentum !== 0) {
              const s = this.stateOf(p, () => ({ momentumBuffer: zerosLike(p) }));
              const buffer = s.tensors.momentumBuffer;
              const next = s.step === 0 ? g : add(mul(buffer, o.momentum), mul(g, 1 - o.dampening));
              buffer.assign(next);
              s.step++;
              g = o.nesterov ? add(g, mul(buffer, o.momentum)) : buffer;
            }
            p.assign(sub(p, mul(g, o.lr)));
          });
        }
      }
    });
  }
}
