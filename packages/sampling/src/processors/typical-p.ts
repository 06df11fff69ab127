import type { Candidates } from '../candidates.js';
import { checkNumber } from '@llmkit/utils';
import { sortByKey } from '../sort.js';
import type { LogitsWarper } from './types.js';

/**
 * Locally typical sampling (Meister et al., 2022, "Locally Typical Sampling"), Hugging Face's
 * `TypicalLogitsWarper`: order the tokens by how far their surprisal `-log p` is from the
 * entropy `H`, closest first; find the first position where the cumulative probability reaches
 * `typicalP`; keep every token at least as close to `H` as the token there (ties included), and
 * always the `minTokensToKeep` closest.
 *
 * Sorts its candidate set (O(n log n) over the candidates): put a top-k before it on large
 * vocabularies when speed matters.
 *
 * @example
 * ```ts
 * warpLogits(logits, [new TypicalPWarper(0.9)]);
 * ```
 */
export class TypicalPWarper implements LogitsWarper {
  /** Always `typical-p`. */
  readonly name = 'typical-p';
  /** The probability mass to reach, in (0, 1]. */
  readonly typicalP: number;
  /** How many of the most typical tokens are always kept. */
  readonly minTokensToKeep: number;
  private distance = new Float64Array(0);

  /**
   * @param typicalP in (0, 1]; 1 keeps everything
   * @param minTokensToKeep a positive integer, default 1
   */
  constructor(typicalP: number, minTokensToKeep = 1) {
    this.typicalP = checkNumber('TypicalPWarper', 'typicalP', typicalP, {
      min: 0,
      max: 1,
      minExclusive: true,
    });
    this.minTokensToKeep = checkNumber('TypicalPWarper', 'minTokensToKeep', minTokensToKeep, {
      min: 1,
      integer: true,
    });
  }

  warp(candidates: Candidates): void {
    if (this.typicalP >= 1) return;
    const sum = candidates.exponentiate();
    const { scores, weights, order, tags, ids, size, max } = candidates;
    if (this.distance.length < size) this.distance = new Float64Array(candidates.vocabSize);
    const distance = this.distance;
    const logSum = Math.log(sum);
    // Entropy H = -sum p log p, with log p = score - max - log(sum).
    let entropy = 0;
    for (let i = 0; i < size; i++) {
      entropy -= (weights[i] / sum) * (scores[i] - max - logSum);
    }
    for (let i = 0; i < size; i++) {
      distance[i] = Math.abs(-(scores[i] - max - logSum) - entropy);
      order[i] = i;
      tags[i] = 0;
    }
    const sorted = order.subarray(0, size);
    // Closest to the entropy first; equal distances by token id (a stable sort's order).
    sortByKey(sorted, size, distance, ids);
    let cumulative = 0;
    let last = 0; // number of positions whose cumulative probability is below typicalP
    for (; last < size; last++) {
      cumulative += weights[sorted[last]] / sum;
      if (!(cumulative < this.typicalP)) break;
    }
    if (last > size - 1) last = size - 1;
    const cutoff = distance[sorted[last]];
    let kept = 0;
    for (let rank = 0; rank < size; rank++) {
      const i = sorted[rank];
      if (rank >= this.minTokensToKeep && distance[i] > cutoff) tags[i] = 1;
    }
    for (let i = 0; i < size; i++) {
      if (tags[i] === 0) {
        ids[kept] = ids[i];
        scores[kept] = scores[i];
        kept++;
      }
    }
    candidates.size = kept;
    candidates.weightsFresh = false;
  }
}
