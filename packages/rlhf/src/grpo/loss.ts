// Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath, eq. 3 and 4).
//
// For G completions of one prompt with rewards r_i: A_i = (r_i - mean(r)) / (std(r) + eps), the
// same advantage for every token of completion i (outcome supervision; std is the unbiased one,
// as torch.std and TRL). Per token: ratio = exp(log pi - log pi_old),
//   loss_t = -min(ratio A, clip(ratio, 1 - e, 1 + e) A) + beta KL_t,
//   KL_t = exp(log pi_ref - log pi) - (log pi_ref - log pi) - 1 (the k3 estimator, Schulman 2020:
//   unbiased and never negative). The loss averages over each completion's tokens, then over
//   completions.
import { clamp, exp, minimum, mul, neg, sub, sum, type Tensor } from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';

/**
 * Group-normalised advantages: `rewards` holds groups of `groupSize` consecutive completions.
 *
 * @example
 * ```ts
 * groupAdvantages([1, 0, 0, 1], 2); // [0.7071, -0.7071, -0.7071, 0.7071] (about)
 * ```
 */
export function groupAdvantages(
  rewards: ArrayLike<number>,
  groupSize: number,
  epsilon = 1e-4,
): number[] {
  if (rewards.length % groupSize !== 0)
    throw new RlhfError(
      'invalid_argument',
      `groupAdvantages: ${rewards.length} rewards do not split into groups of ${groupSize}`,
    );
  const out = new Array<number>(rewards.length);
  for (let g = 0; g < rewards.length; g += groupSize) {
    let total = 0;
    for (let i = g; i < g + groupSize; i++) {
      if (!Number.isFinite(rewards[i]))
        throw new RlhfError(
          'invalid_data',
          `groupAdvantages: reward ${i} is ${rewards[i]}, expected a finite number`,
        );
      total += rewards[i];
    }
    const mean = total / groupSize;
    let squares = 0;
    for (let i = g; i < g + groupSize; i++) squares += (rewards[i] - mean) ** 2;
    const std = Math.sqrt(squares / (groupSize - 1));
    for (let i = g; i < g + groupSize; i++) out[i] = (rewards[i] - mean) / (std + epsilon);
  }
  return out;
}

/**
 * The k3 estimate of KL(pi || pi_ref) per token: exp(ref - logp) - (ref - logp) - 1.
 *
 * @example
 * ```ts
 * k3Kl(logProbs, referenceLogProbs); // same shape, >= 0
 * ```
 */
export function k3Kl(logProbs: Tensor, referenceLogProbs: Tensor): Tensor {
  const d = sub(referenceLogProbs.detach(), logProbs);
  return sub(sub(exp(d), d), 1);
}

/** Inputs of {@link grpoLoss}, all [B, T] but `advantages` [B]. */
export interface GrpoBatch {
  /** log pi of each completion token under the policy being trained. */
  logProbs: Tensor;
  /** log pi_old of the same tokens, from the policy that sampled them. */
  oldLogProbs: Tensor;
  /** log pi_ref of the same tokens (omit when the KL coefficient is 0). */
  referenceLogProbs?: Tensor;
  /** One advantage per completion ({@link groupAdvantages}). */
  advantages: Tensor;
  /** 1 on completion tokens, 0 on padding. */
  mask: Tensor;
}

/**
 * The GRPO loss (to minimise), with its mean KL for logging.
 *
 * @example
 * ```ts
 * const { loss, kl } = grpoLoss(batch, { clipRange: 0.2, klCoefficient: 0.04 });
 * ```
 */
export function grpoLoss(
  batch: GrpoBatch,
  options: { clipRange: number; klCoefficient: number },
): { loss: Tensor; kl: Tensor | null } {
  const { logProbs, oldLogProbs, referenceLogProbs, advantages, mask } = batch;
  const [B] = logProbs.shape;
  if (
    logProbs.rank !== 2 ||
    advantages.shape.join() !== String(B) ||
    mask.shape.join() !== logProbs.shape.join()
  )
    throw new RlhfError(
      'invalid_argument',
      `grpoLoss: logProbs and mask must be [B, T] and advantages [B]; got [${logProbs.shape}], [${mask.shape}], [${advantages.shape}]`,
    );
  const ratio = exp(sub(logProbs, oldLogProbs.detach()));
  const a = advantages.detach().reshape([B, 1]);
  let perToken = neg(
    minimum(mul(ratio, a), mul(clamp(ratio, 1 - options.clipRange, 1 + options.clipRange), a)),
  );
  let kl: Tensor | null = null;
  if (options.klCoefficient > 0) {
    if (!referenceLogProbs)
      throw new RlhfError(
        'invalid_argument',
        'grpoLoss: klCoefficient > 0 needs referenceLogProbs',
      );
    kl = k3Kl(logProbs, referenceLogProbs);
    perToken = perToken.add(mul(kl, options.klCoefficient));
  }
  const m = mask.to(logProbs.dtype);
  const perSequence = sum(mul(perToken, m), 1).div(sum(m, 1));
  const klMean = kl ? sum(mul(kl, m)).div(sum(m)).detach() : null;
  return { loss: sum(perSequence).div(B), kl: klMean };
}
