// PPO for language models (Ziegler et al. 2019; Ouyang et al. 2022), as pure functions.
//
// Per-token rewards: r_t = -kl_coef * (log pi(a_t) - log pi_ref(a_t)), plus the score of the
// whole completion on its last token (Ziegler et al. 2019, eq. 2).
// GAE (Schulman et al. 2016): delta_t = r_t + gamma V_{t+1} - V_t,
//   A_t = delta_t + gamma lambda A_{t+1}, returns R_t = A_t + V_t.
// Clipped surrogate (Schulman et al. 2017, eq. 7): ratio = exp(log pi - log pi_old),
//   L = mean(max(-A ratio, -A clip(ratio, 1 - eps, 1 + eps))).
// Clipped value loss (as in OpenAI baselines / TRL):
//   V_clip = V_old + clip(V - V_old, -eps_v, eps_v), L_V = 0.5 mean(max((V - R)^2, (V_clip - R)^2)).
import {
  add,
  clamp,
  exp,
  maximum,
  mean,
  mul,
  neg,
  square,
  sub,
  sum,
  type Tensor,
} from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';

/**
 * Per-token rewards of one completion: the KL penalty at every token and `score` added on the
 * last one.
 *
 * @example
 * ```ts
 * klPenalizedRewards(2, [-1, -2], [-1.5, -1.5], 0.2); // [-0.1, 2.1]
 * ```
 */
export function klPenalizedRewards(
  score: number,
  logProbs: ArrayLike<number>,
  referenceLogProbs: ArrayLike<number>,
  klCoefficient: number,
): number[] {
  if (!Number.isFinite(score))
    throw new RlhfError(
      'invalid_data',
      `klPenalizedRewards: the reward is ${score}, expected a finite number`,
    );
  if (logProbs.length !== referenceLogProbs.length || logProbs.length === 0)
    throw new RlhfError(
      'invalid_argument',
      `klPenalizedRewards: ${logProbs.length} log-probs and ${referenceLogProbs.length} reference log-probs; expected the same non-zero count`,
    );
  const rewards = Array.from(logProbs, (lp, t) => -klCoefficient * (lp - referenceLogProbs[t]));
  rewards[rewards.length - 1] += score;
  return rewards;
}

/**
 * Generalised advantage estimation over one completion's tokens (values after the last token
 * are 0: the episode ends).
 *
 * @example
 * ```ts
 * generalizedAdvantages([0, 1], [0.5, 0.5], 1, 1); // { advantages: [0.5, 0.5], returns: [1, 1] }
 * ```
 */
export function generalizedAdvantages(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  gamma: number,
  lambda: number,
): { advantages: number[]; returns: number[] } {
  const T = rewards.length;
  if (values.length !== T)
    throw new RlhfError(
      'invalid_argument',
      `generalizedAdvantages: ${T} rewards but ${values.length} values`,
    );
  const advantages = new Array<number>(T);
  let next = 0;
  for (let t = T - 1; t >= 0; t--) {
    const nextValue = t + 1 < T ? values[t + 1] : 0;
    const delta = rewards[t] + gamma * nextValue - values[t];
    next = delta + gamma * lambda * next;
    advantages[t] = next;
  }
  return { advantages, returns: advantages.map((a, t) => a + values[t]) };
}

/** Masked mean: sum(x * mask) / sum(mask). */
function maskedMean(x: Tensor, mask: Tensor | undefined): Tensor {
  if (!mask) return mean(x);
  const m = mask.to(x.dtype);
  return sum(mul(x, m)).div(sum(m));
}

/**
 * PPO's clipped policy objective (to minimise) over tokens: `logProbs`, `oldLogProbs`,
 * `advantages` and the optional `mask` share one shape ([B, T] or [N]).
 *
 * @example
 * ```ts
 * const loss = ppoPolicyLoss(logProbs, oldLogProbs, advantages, 0.2, mask);
 * ```
 */
export function ppoPolicyLoss(
  logProbs: Tensor,
  oldLogProbs: Tensor,
  advantages: Tensor,
  clipRange: number,
  mask?: Tensor,
): Tensor {
  const ratio = exp(sub(logProbs, oldLogProbs.detach()));
  const a = advantages.detach();
  const unclipped = mul(neg(a), ratio);
  const clipped = mul(neg(a), clamp(ratio, 1 - clipRange, 1 + clipRange));
  return maskedMean(maximum(unclipped, clipped), mask);
}

/**
 * PPO's clipped value loss: 0.5 * mean(max((V - R)^2, (V_clip - R)^2)).
 *
 * @example
 * ```ts
 * const loss = ppoValueLoss(values, oldValues, returns, 0.2, mask);
 * ```
 */
export function ppoValueLoss(
  values: Tensor,
  oldValues: Tensor,
  returns: Tensor,
  clipRangeValue: number,
  mask?: Tensor,
): Tensor {
  const old = oldValues.detach();
  const R = returns.detach();
  const clipped = add(old, clamp(sub(values, old), -clipRangeValue, clipRangeValue));
  return mul(maskedMean(maximum(square(sub(values, R)), square(sub(clipped, R))), mask), 0.5);
}

/**
 * The adaptive KL controller of Ziegler et al. 2019 (section 2.2): after each batch with mean KL
 * `kl` over `samples` sequences, beta <- beta * (1 + clip(kl / target - 1, -0.2, 0.2) * samples / horizon).
 *
 * @example
 * ```ts
 * const controller = new AdaptiveKlController(0.2, 6, 10_000);
 * controller.update(12, 256); // KL above target: the coefficient grows
 * ```
 */
export class AdaptiveKlController {
  /** The current KL coefficient. */
  value: number;

  /** Starts at `initial`, aiming at `target` nats over `horizon` samples. */
  constructor(
    initial: number,
    readonly target: number,
    readonly horizon: number,
  ) {
    this.value = initial;
  }

  /** Updates the coefficient from a batch's mean KL and returns it. */
  update(kl: number, samples: number): number {
    const error = Math.min(0.2, Math.max(-0.2, kl / this.target - 1));
    this.value *= 1 + (error * samples) / this.horizon;
    return this.value;
  }
}
