import { configError } from '@llmkit/utils';
import { SamplingError } from '../errors.js';
import type { LogitsProcessor } from './types.js';

/**
 * Adds a fixed bias to the logits of chosen tokens (OpenAI's `logit_bias`, Hugging Face's
 * `SequenceBiasLogitsProcessor` for one-token sequences). `-Infinity` bans a token.
 *
 * @example
 * ```ts
 * const scores = Float32Array.of(0, 0, 0);
 * new LogitBiasProcessor(new Map([[1, 5], [2, -Infinity]])).process(scores, []); // [0, 5, -Infinity]
 * ```
 */
export class LogitBiasProcessor implements LogitsProcessor {
  /** Always `logit-bias`. */
  readonly name = 'logit-bias';
  private readonly tokenIds: Int32Array;
  private readonly biases: Float64Array;

  /** @param bias token id to the number added to its logit */
  constructor(bias: ReadonlyMap<number, number>) {
    this.tokenIds = Int32Array.from(bias.keys());
    this.biases = Float64Array.from(bias.values());
    bias.forEach((value, id) => {
      if (!Number.isInteger(id) || id < 0) {
        configError('LogitBiasProcessor', 'bias', id, 'keyed by non-negative integer token ids');
      }
      if (Number.isNaN(value) || value === Infinity) {
        configError('LogitBiasProcessor', `bias[${id}]`, value, 'a number or -Infinity');
      }
    });
  }

  process(scores: Float32Array): void {
    for (let i = 0; i < this.tokenIds.length; i++) {
      const id = this.tokenIds[i];
      if (id >= scores.length) {
        throw new SamplingError(
          'invalid_data',
          `logitBias: token ${id} is outside the vocabulary of ${scores.length} tokens`,
        );
      }
      scores[id] += this.biases[i];
    }
  }
}
