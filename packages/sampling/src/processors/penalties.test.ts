import { describe, expect, it } from 'vitest';
import { createRandom } from '../random.js';
import { FrequencyPenaltyProcessor } from './frequency-penalty.js';
import { LogitBiasProcessor } from './logit-bias.js';
import { NoRepeatNgramProcessor } from './no-repeat-ngram.js';
import { RepetitionPenaltyProcessor } from './repetition-penalty.js';
import type { LogitsProcessor } from './types.js';

function randomLogits(n: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: n }, () => (random.nextFloat() - 0.5) * 8);
}

/** The ids whose score the processor changed. */
function changed(processor: LogitsProcessor, logits: Float32Array, previous: number[]): number[] {
  const scores = logits.slice();
  processor.process(scores, previous);
  return [...scores.keys()].filter((id) => !Object.is(scores[id], logits[id]));
}

describe('penalties change exactly the tokens they should', () => {
  const logits = randomLogits(64, 1);
  const previous = [5, 9, 5, 33, 9, 5, 60];

  it('repetition penalty: each distinct previous token once, by sign', () => {
    expect(changed(new RepetitionPenaltyProcessor(1.5), logits, previous)).toEqual([5, 9, 33, 60]);
    const scores = logits.slice();
    new RepetitionPenaltyProcessor(1.5).process(scores, previous);
    for (const id of [5, 9, 33, 60]) {
      const expected = logits[id] < 0 ? logits[id] * 1.5 : logits[id] / 1.5;
      expect(scores[id]).toBe(Math.fround(expected));
      expect(scores[id]).toBeLessThan(logits[id]); // always less likely
    }
  });

  it('frequency and presence penalty: by occurrence count', () => {
    expect(changed(new FrequencyPenaltyProcessor(0.5, 0.25), logits, previous)).toEqual([
      5, 9, 33, 60,
    ]);
    const scores = logits.slice();
    new FrequencyPenaltyProcessor(0.5, 0.25).process(scores, previous);
    expect(scores[5]).toBe(Math.fround(logits[5] - (3 * 0.5 + 0.25)));
    expect(scores[9]).toBe(Math.fround(logits[9] - (2 * 0.5 + 0.25)));
    expect(scores[33]).toBe(Math.fround(logits[33] - (0.5 + 0.25)));
  });

  it('no-repeat n-gram: only the completions of earlier n-grams', () => {
    // Last token 60 never occurred before: nothing to ban with n = 2.
    expect(changed(new NoRepeatNgramProcessor(2), logits, previous)).toEqual([]);
    const sequence = [1, 2, 3, 5, 2, 4, 1, 2];
    expect(changed(new NoRepeatNgramProcessor(3), logits, sequence)).toEqual([3]); // (1, 2) -> 3
    expect(changed(new NoRepeatNgramProcessor(2), logits, sequence)).toEqual([3, 4]); // 2 -> 3, 4
    expect(changed(new NoRepeatNgramProcessor(1), logits, sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(changed(new NoRepeatNgramProcessor(4), logits, [1, 2])).toEqual([]);
  });

  it('logit bias: only the listed tokens, and rejects ids outside the vocabulary', () => {
    const bias = new LogitBiasProcessor(
      new Map([
        [3, 2],
        [40, -Infinity],
      ]),
    );
    expect(changed(bias, logits, [])).toEqual([3, 40]);
    expect(() => new LogitBiasProcessor(new Map([[99, 1]])).process(logits.slice())).toThrow(
      /token 99 is outside the vocabulary of 64 tokens/,
    );
  });

  it('rejects previous tokens outside the vocabulary, naming the position', () => {
    expect(() => new RepetitionPenaltyProcessor(1.2).process(logits.slice(), [1, 64])).toThrow(
      /previousTokens\[1\] is 64; expected an integer token id in \[0, 64\)/,
    );
  });
});
