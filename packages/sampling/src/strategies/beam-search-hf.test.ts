import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StepFunction } from '../step.js';
import { beamSearch } from './beam-search.js';

// Fixtures: Hugging Face's vectorized beam search transcribed to torch
// (scripts/make-beam-fixtures.py), on a toy model whose logits hash the sequence.
const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/beam-search.json', import.meta.url)), 'utf8'),
) as {
  vocab: number;
  eos: number;
  cases: {
    prompt: number[];
    numBeams: number;
    lengthPenalty: number;
    earlyStopping: boolean | 'never';
    maxNewTokens: number;
    numReturnSequences: number;
    eosBias: number;
    expected: { tokens: number[]; score: number }[];
  }[];
};

function toyLogits(sequence: readonly number[], eosBias: number): Float32Array {
  let hash = 2166136261;
  for (const token of sequence) hash = Math.imul(hash ^ (token + 1), 16777619) >>> 0;
  const logits = Float32Array.from({ length: fixture.vocab }, (_, token) => {
    const h = Math.imul(hash ^ ((token * 2654435761) >>> 0), 2246822519) >>> 0;
    return (h / 4294967296) * 4 - 2;
  });
  logits[fixture.eos] += eosBias; // a likelier EOS makes the early-stopping modes differ
  return logits;
}

describe("beam search matches Hugging Face's _beam_search (torch transcription)", () => {
  it.each(
    fixture.cases.map((c) => [
      `prompt ${c.prompt}, ${c.numBeams} beams, lengthPenalty ${c.lengthPenalty}, earlyStopping ${c.earlyStopping}, ${c.maxNewTokens} tokens, EOS bias ${c.eosBias}`,
      c,
    ]),
  )('%s', async (_, c) => {
    const step: StepFunction = (sequences) => sequences.map((s) => toyLogits(s, c.eosBias));
    const [results] = await beamSearch(step, [c.prompt], {
      numBeams: c.numBeams,
      maxNewTokens: c.maxNewTokens,
      eosTokenId: fixture.eos,
      lengthPenalty: c.lengthPenalty,
      earlyStopping: c.earlyStopping,
      numReturnSequences: c.numReturnSequences,
    });
    expect(results.map((h) => h.tokens)).toEqual(c.expected.map((e) => e.tokens));
    results.forEach((h, i) => {
      expect(Math.abs(h.score - c.expected[i].score)).toBeLessThan(1e-5);
    });
  });
});
