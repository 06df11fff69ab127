import { checkNumber } from '@llmkit/utils';
import { TokenCounter } from './token-set.js';
import type { LogitsProcessor } from './types.js';

/**
 * The repetition penalty of CTRL (Keskar et al., 2019), Hugging Face's
 * `RepetitionPenaltyLogitsProcessor`: for each distinct token in `previousTokens` (once, however
 * often it occurs), a positive score is divided by `penalty` and a negative one multiplied by it,
 * so `penalty > 1` always makes the token less likely. Other tokens are untouched.
 *
 * @example
 * ```ts
 * const scores = Float32Array.of(2, -2, 2);
 * new RepetitionPenaltyProcessor(2).process(scores, [0, 1, 1]); // scores: [1, -4, 2]
 * ```
 */
export class RepetitionPenaltyProcessor implements LogitsProcessor {
  /** Always `repetition-penalty`. */
  readonly name = 'repetition-penalty';
  /** The penalty, > 0; 1 is none. */
  readonly penalty: number;
  private readonly seen = new TokenCounter();

  /** @param penalty strictly positive; above 1 penalizes repeats, below 1 rewards them */
  constructor(penalty: number) {
    this.penalty = checkNumber('RepetitionPenaltyProcessor', 'penalty', penalty, {
      min: 0,
      minExclusive: true,
    });
  }

  process(scores: Float32Array, previousTokens: ArrayLike<number>): void {
    const seen = this.seen;
    seen.start(scores.length);
    seen.addAll(previousTokens, scores.length, 'repetitionPenalty');
    const penalty = this.penalty;
    for (let i = 0; i < seen.distinctSize; i++) {
      const id = seen.distinct[i];
      const score = scores[id];
      scores[id] = score < 0 ? score * penalty : score / penalty;
    }
  }
}
