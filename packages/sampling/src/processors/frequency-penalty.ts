import { checkNumber } from '@llmkit/utils';
import { TokenCounter } from './token-set.js';
import type { LogitsProcessor } from './types.js';

/**
 * OpenAI's frequency and presence penalties (also in vLLM and llama.cpp; not in Hugging Face):
 * for each token occurring `count > 0` times in `previousTokens`,
 * `score -= count * frequencyPenalty + presencePenalty`. Negative values encourage repeats.
 *
 * @example
 * ```ts
 * const scores = Float32Array.of(1, 1, 1);
 * new FrequencyPenaltyProcessor(0.5, 0.25).process(scores, [0, 0, 1]); // scores: [-0.25, 0.25, 1]
 * ```
 */
export class FrequencyPenaltyProcessor implements LogitsProcessor {
  /** Always `frequency-penalty`. */
  readonly name = 'frequency-penalty';
  /** Subtracted once per occurrence. */
  readonly frequencyPenalty: number;
  /** Subtracted once per distinct token that occurs. */
  readonly presencePenalty: number;
  private readonly counter = new TokenCounter();

  /**
   * @param frequencyPenalty finite; OpenAI allows -2 to 2
   * @param presencePenalty finite; OpenAI allows -2 to 2
   */
  constructor(frequencyPenalty: number, presencePenalty = 0) {
    const where = 'FrequencyPenaltyProcessor';
    this.frequencyPenalty = checkNumber(where, 'frequencyPenalty', frequencyPenalty, {});
    this.presencePenalty = checkNumber(where, 'presencePenalty', presencePenalty, {});
  }

  process(scores: Float32Array, previousTokens: ArrayLike<number>): void {
    const counter = this.counter;
    counter.start(scores.length);
    counter.addAll(previousTokens, scores.length, 'frequencyPenalty');
    for (let i = 0; i < counter.distinctSize; i++) {
      const id = counter.distinct[i];
      scores[id] -= counter.count(id) * this.frequencyPenalty + this.presencePenalty;
    }
  }
}
