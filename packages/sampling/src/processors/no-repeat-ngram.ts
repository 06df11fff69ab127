import { checkNumber } from '@llmkit/utils';
import { SamplingError } from '../errors.js';
import type { LogitsProcessor } from './types.js';

/**
 * Hugging Face's `NoRepeatNGramLogitsProcessor` (`no_repeat_ngram_size`): bans every token that
 * would complete an n-gram already present in `previousTokens`. With `n = 2` and tokens
 * `[5, 7, 5]`, token 7 is banned (it would repeat `5 7`). Nothing is banned while fewer than
 * `n - 1` tokens exist. Costs O(length * n) per token and allocates nothing.
 *
 * @example
 * ```ts
 * const scores = new Float32Array(10);
 * new NoRepeatNgramProcessor(2).process(scores, [5, 7, 5]); // scores[7] === -Infinity
 * ```
 */
export class NoRepeatNgramProcessor implements LogitsProcessor {
  /** Always `no-repeat-ngram`. */
  readonly name = 'no-repeat-ngram';
  /** The n-gram size, >= 1. */
  readonly ngramSize: number;

  /** @param ngramSize a positive integer; 1 bans every token already present */
  constructor(ngramSize: number) {
    this.ngramSize = checkNumber('NoRepeatNgramProcessor', 'ngramSize', ngramSize, {
      min: 1,
      integer: true,
    });
  }

  process(scores: Float32Array, previousTokens: ArrayLike<number>): void {
    const n = this.ngramSize;
    const length = previousTokens.length;
    if (length + 1 < n) return;
    const prefixStart = length - (n - 1); // the last n - 1 tokens are the prefix to match
    for (let start = 0; start + n <= length; start++) {
      let matches = true;
      for (let j = 0; j < n - 1; j++) {
        if (previousTokens[start + j] !== previousTokens[prefixStart + j]) {
          matches = false;
          break;
        }
      }
      if (!matches) continue;
      const banned = previousTokens[start + n - 1];
      if (!(banned >= 0 && banned < scores.length)) {
        throw new SamplingError(
          'invalid_data',
          `noRepeatNgram: previousTokens[${start + n - 1}] is ${banned}; expected a token id in [0, ${scores.length})`,
        );
      }
      scores[banned] = -Infinity;
    }
  }
}
