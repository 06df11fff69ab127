import { describe, expect, it } from 'vitest';
import type { StepFunction } from '../step.js';
import { type BeamHypothesis, beamSearch } from './beam-search.js';

const VOCAB = 4;
const EOS = 3;

/** A deterministic toy language model: logits from a hash of the whole sequence. */
function toyLogits(sequence: readonly number[]): Float32Array {
  let hash = 2166136261;
  for (const token of sequence) hash = Math.imul(hash ^ (token + 1), 16777619) >>> 0;
  return Float32Array.from({ length: VOCAB }, (_, token) => {
    const h = Math.imul(hash ^ (token * 2654435761), 2246822519) >>> 0;
    return (h / 4294967296) * 4 - 2;
  });
}

const toyStep: StepFunction = (sequences) => sequences.map(toyLogits);

/** The same log-softmax as the search (float64, rounded to float32). */
function logProbabilities(sequence: readonly number[]): Float32Array {
  const logits = toyLogits(sequence);
  const max = Math.max(...logits);
  const logSum = Math.log(logits.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
  return Float32Array.from(logits, (v) => v - logSum);
}

/** Every finished continuation (EOS or maxNewTokens), scored as the search scores them. */
function bruteForce(prompt: number[], maxNewTokens: number, lengthPenalty: number) {
  const out: { tokens: number[]; score: number }[] = [];
  const expand = (tokens: number[], sum: number, length: number) => {
    const logProbs = logProbabilities(tokens);
    for (let token = 0; token < VOCAB; token++) {
      const next = [...tokens, token];
      const nextSum = sum + logProbs[token];
      if (token === EOS || length + 1 === maxNewTokens) {
        out.push({ tokens: next, score: nextSum / (length + 1) ** lengthPenalty });
      } else {
        expand(next, nextSum, length + 1);
      }
    }
  };
  expand(prompt, 0, 0);
  return out.sort((a, b) => b.score - a.score);
}

describe('beam search', () => {
  it.each([1, 0, -0.5, 2])(
    'equals brute-force search on a tiny vocabulary (lengthPenalty %d)',
    async (lengthPenalty) => {
      const prompts = [[0, 1], [2]];
      const maxNewTokens = 4;
      const results = await beamSearch(toyStep, prompts, {
        numBeams: VOCAB ** (maxNewTokens - 1), // enough beams to never prune
        maxNewTokens,
        eosTokenId: EOS,
        lengthPenalty,
        earlyStopping: 'never',
        numReturnSequences: 5,
      });
      prompts.forEach((prompt, p) => {
        const expected = bruteForce(prompt, maxNewTokens, lengthPenalty).slice(0, 5);
        expect(results[p].map((h) => h.tokens)).toEqual(expected.map((e) => e.tokens));
        results[p].forEach((h, i) => {
          expect(h.score).toBeCloseTo(expected[i].score, 12);
        });
      });
    },
  );

  it('with few beams finds a sequence no better than the exact best, and marks why beams ended', async () => {
    const [results] = await beamSearch(toyStep, [[1]], {
      numBeams: 2,
      maxNewTokens: 5,
      eosTokenId: EOS,
      numReturnSequences: 2,
    });
    const best = bruteForce([1], 5, 1)[0];
    expect(results).toHaveLength(2);
    expect(results[0].score).toBeLessThanOrEqual(best.score + 1e-12);
    expect(results[0].score).toBeGreaterThanOrEqual(results[1].score);
    for (const h of results) {
      const last = h.tokens[h.tokens.length - 1];
      expect(h.finishReason).toBe(last === EOS ? 'eos' : 'length');
      if (last !== EOS) expect(h.tokens).toHaveLength(1 + 5);
    }
  });

  it('earlyStopping true stops once numBeams sequences are finished', async () => {
    // A model that ends almost surely: EOS has the top logit everywhere.
    const calls: number[] = [];
    const step: StepFunction = (sequences) => {
      calls.push(sequences.length);
      return sequences.map(() => Float32Array.of(0, -1, -2, 5));
    };
    const [results] = await beamSearch(step, [[0]], {
      numBeams: 2,
      maxNewTokens: 10,
      eosTokenId: EOS,
      earlyStopping: true,
      numReturnSequences: 2,
    });
    expect(results.map((h) => h.tokens)).toEqual([
      [0, 3],
      [0, 0, 3],
    ]);
    expect(calls).toEqual([1, 2]);
  });

  it('tells the step function which row each beam continues (for a KV cache)', async () => {
    let previous: (readonly number[])[] = [];
    const step: StepFunction = (sequences, context) => {
      sequences.forEach((sequence, row) => {
        const parent = context.parentRows[row];
        if (context.step === 0) expect(parent).toBe(-1);
        else expect(sequence.slice(0, -1)).toEqual(previous[parent]);
        expect(context.promptIndex[row]).toBe(sequence[0] === 0 ? 0 : 1);
      });
      previous = sequences.map((s) => [...s]);
      return sequences.map(toyLogits);
    };
    await beamSearch(step, [[0, 2], [1]], { numBeams: 3, maxNewTokens: 6, eosTokenId: EOS });
  });

  it('applies processors to the log-probabilities and accepts async steps and flat results', async () => {
    const step: StepFunction = async (sequences) => {
      const flat = new Float32Array(sequences.length * VOCAB);
      sequences.forEach((s, row) => {
        flat.set(toyLogits(s), row * VOCAB);
      });
      return flat;
    };
    const ban = {
      name: 'ban-1',
      process: (scores: Float32Array) => {
        scores[1] = -Infinity;
      },
    };
    const [results] = await beamSearch(step, [[0]], {
      numBeams: 3,
      maxNewTokens: 4,
      processors: [ban],
      numReturnSequences: 3,
    });
    for (const h of results as BeamHypothesis[]) expect(h.tokens.slice(1)).not.toContain(1);
  });

  it('validates its options, naming the field', async () => {
    await expect(
      beamSearch(toyStep, [[0]], { numBeams: 2, maxNewTokens: 3, numReturnSequences: 3 }),
    ).rejects.toThrow(/numReturnSequences must be an integer >= 1 and <= 2, got 3/);
    await expect(beamSearch(toyStep, [[0]], { numBeams: 0, maxNewTokens: 3 })).rejects.toThrow(
      /numBeams/,
    );
    await expect(
      beamSearch(toyStep, [[0]], {
        numBeams: 2,
        maxNewTokens: 3,
        earlyStopping: 'sometimes' as never,
      }),
    ).rejects.toThrow(/earlyStopping must be true, false or 'never'/);
  });
});
