import { Candidates } from '../candidates.js';

/**
 * A logits processor: edits the scores of one next-token distribution in place, given the tokens
 * so far (prompt included, as in Hugging Face). Runs for greedy, sampling and beam search alike.
 *
 * @example
 * ```ts
 * const banFirstToken: LogitsProcessor = { name: 'ban-0', process: (scores) => { scores[0] = -Infinity } };
 * ```
 */
export interface LogitsProcessor {
  /** A short name for messages and debugging. */
  readonly name: string;
  /** Edits `scores` (one per vocabulary token) in place. */
  process(scores: Float32Array, previousTokens: ArrayLike<number>): void;
}

/**
 * A logits warper: narrows or reshapes the distribution that sampling draws from (temperature,
 * top-k, top-p, min-p, typical-p). Works on a {@link Candidates} set so that it can skip the
 * tokens earlier warpers removed.
 */
export interface LogitsWarper {
  /** A short name for messages and debugging. */
  readonly name: string;
  /** Narrows `candidates` in place. */
  warp(candidates: Candidates): void;
}

/**
 * Applies warpers to a whole logits array the way Hugging Face does: returns a new array with the
 * warped score of each kept token and `-Infinity` for every removed one. For tests and inspection;
 * {@link createSampler} works on the candidate set directly.
 *
 * @example
 * ```ts
 * warpLogits(Float32Array.of(1, 2, 3), [new TopKWarper(2)]); // Float32Array [-Infinity, 2, 3]
 * ```
 */
export function warpLogits(logits: Float32Array, warpers: readonly LogitsWarper[]): Float32Array {
  const candidates = new Candidates().reset(logits);
  for (const warper of warpers) warper.warp(candidates);
  const out = new Float32Array(logits.length).fill(-Infinity);
  if (candidates.dense) {
    for (let id = 0; id < logits.length; id++) out[id] = logits[id] * candidates.scale;
  } else {
    for (let i = 0; i < candidates.size; i++) out[candidates.ids[i]] = candidates.scores[i];
  }
  return out;
}
