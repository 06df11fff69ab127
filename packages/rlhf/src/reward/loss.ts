// Reward models from preference pairs: the Bradley-Terry model P(chosen > rejected) =
// sigmoid(r_chosen - r_rejected), trained by its negative log-likelihood (Christiano et al. 2017;
// Ouyang et al. 2022, eq. 1), with Llama 2's optional margin (Touvron et al. 2023, eq. 2).
import { mean, neg, sub, type Tensor } from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';
import { logSigmoid } from '../log-probs.js';

/**
 * -log sigmoid(r_chosen - r_rejected - margin), averaged over the pairs.
 *
 * @example
 * ```ts
 * const loss = bradleyTerryLoss(model.score(chosen), model.score(rejected));
 * ```
 */
export function bradleyTerryLoss(
  chosenRewards: Tensor,
  rejectedRewards: Tensor,
  margin: Tensor | number = 0,
): Tensor {
  if (chosenRewards.shape.join() !== rejectedRewards.shape.join())
    throw new RlhfError(
      'invalid_argument',
      `bradleyTerryLoss: chosen rewards [${chosenRewards.shape}] and rejected [${rejectedRewards.shape}] differ in shape`,
    );
  return mean(neg(logSigmoid(sub(sub(chosenRewards, rejectedRewards), margin))));
}

/** A reward function: any score of a completion for a prompt (higher is better). */
export type RewardFunction = (prompt: string, completion: string) => number | Promise<number>;

/**
 * Combines reward functions with weights (r = sum w_i r_i; for example an environment reward and
 * a learned human-preference reward). A NaN or infinite part is an `invalid_data` error naming
 * it, so a broken reward never reaches an update.
 *
 * @example
 * ```ts
 * const reward = combineRewards([{ reward: lengthPenalty, weight: 0.1 }, { reward: sentiment, weight: 1, name: 'sentiment' }]);
 * await reward('Once upon', ' a time'); // 0.1 * lengthPenalty + sentiment
 * ```
 */
export function combineRewards(
  parts: readonly { reward: RewardFunction; weight: number; name?: string }[],
): RewardFunction {
  return async (prompt, completion) => {
    let total = 0;
    for (const [i, part] of parts.entries()) {
      const value = await part.reward(prompt, completion);
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new RlhfError(
          'invalid_data',
          `reward ${part.name ?? i} returned ${value} for completion ${JSON.stringify(completion.slice(0, 40))}; expected a finite number`,
        );
      total += part.weight * value;
    }
    return total;
  };
}
