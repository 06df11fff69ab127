// Tiny random GPTs and a character tokenizer for the trainer tests.
import { manualSeed, type Module } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import type { TextTokenizer } from '../sequences.js';

const CHARS = ' abcdefghijklmnopqrstuvwxyz.!?';

/** A character tokenizer over lowercase letters, space and `.!?` (ids 0..29). */
export const tinyTokenizer: TextTokenizer = {
  encode: (text) =>
    Array.from(text, (c) => {
      const id = CHARS.indexOf(c);
      if (id < 0) throw new Error(`tinyTokenizer: ${JSON.stringify(c)} is not in the vocabulary`);
      return id;
    }),
  decode: (ids) => Array.from(ids, (id) => CHARS[id] ?? '?').join(''),
};

/** A 2-layer GPT of width 16 over {@link tinyTokenizer}'s 30 ids, seeded. */
export function tinyGpt(seed = 0, blockSize = 32): GPT {
  manualSeed(seed);
  return new GPT({ vocabSize: CHARS.length, blockSize, nLayer: 2, nHead: 2, nEmbd: 16 });
}

/** A frozen copy of `model` (same weights, no gradients). */
export function frozenCopy(model: GPT): GPT {
  const copy = new GPT(model.config);
  copy.loadStateDict(model.stateDict());
  for (const p of copy.parameters()) p.requiresGrad = false;
  copy.eval();
  return copy;
}

/** Every parameter's values, flattened, for before/after comparisons. */
export function snapshot(model: Module): number[] {
  return model.parameters().flatMap((p) => Array.from(p.dataSync() as Float32Array));
}
