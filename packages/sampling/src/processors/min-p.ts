import type { Candidates } from '../candidates.js';
import { checkNumber } from '@llmkit/utils';
import type { LogitsWarper } from './types.js';

/**
 * Min-p sampling (Nguyen et al., 2024), Hugging Face's `MinPLogitsWarper`: keep the tokens whose
 * probability is at least `minP` times the most likely token's. In log space that is
 * `score >= maxScore + ln(minP)`, so it needs one comparison per candidate and no exponential.
 * The most likely token always passes, which keeps at least one.
 *
 * @example
 * ```ts
 * // probabilities [0.5, 0.3, 0.15, 0.05], minP 0.2: keep p >= 0.1
 * warpLogits(Float32Array.from([0.5, 0.3, 0.15, 0.05], Math.log), [new MinPWarper(0.2)]); // last is -Infinity
 * ```
 */
export class MinPWarper implements LogitsWarper {
  /** Always `min-p`. */
  readonly name = 'min-p';
  /** The fraction of the top token's probability a token needs, in [0, 1]. */
  readonly minP: number;

  /** @param minP in [0, 1]; 0 keeps everything */
  constructor(minP: number) {
    this.minP = checkNumber('MinPWarper', 'minP', minP, { min: 0, max: 1 });
  }

  warp(candidates: Candidates): void {
    if (this.minP === 0) return;
    const threshold = candidates.maxScore() + Math.log(this.minP);
    if (candidates.dense) {
      // Compare raw logits against the threshold divided back by the scale, eight at a time.
      const { source, ids, scores } = candidates;
      const scale = candidates.scale;
      // A hair lower, so that rounding can never skip a block holding a token the exact test keeps.
      const rawThreshold = (threshold - Math.abs(threshold) * 1e-9 - 1e-300) / scale;
      const n = source.length;
      const blockEnd = n & ~7;
      let size = 0;
      let id = 0;
      for (; id < n; id += 8) {
        if (
          id < blockEnd &&
          source[id] < rawThreshold &&
          source[id + 1] < rawThreshold &&
          source[id + 2] < rawThreshold &&
          source[id + 3] < rawThreshold &&
          source[id + 4] < rawThreshold &&
          source[id + 5] < rawThreshold &&
          source[id + 6] < rawThreshold &&
          source[id + 7] < rawThreshold
        ) {
          continue;
        }
        const end = Math.min(id + 8, n);
        for (let j = id; j < end; j++) {
          const score = source[j] * scale;
          if (score >= threshold) {
            ids[size] = j;
            scores[size] = score;
            size++;
          }
        }
      }
      candidates.dense = false;
      candidates.size = size;
      candidates.weightsFresh = false;
      return;
    }
    const { ids, scores } = candidates;
    let size = 0;
    for (let i = 0; i < candidates.size; i++) {
      if (scores[i] >= threshold) {
        ids[size] = ids[i];
        scores[size] = scores[i];
        size++;
      }
    }
    candidates.size = size;
    candidates.weightsFresh = false;
  }
}
