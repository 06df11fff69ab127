import type { Candidates } from '../candidates.js';
import { checkNumber } from '../config.js';
import type { LogitsWarper } from './types.js';

/** Below this many candidates top-p sorts them all; above, it sorts only one bucket. */
const SORT_LIMIT = 1024;
/** Buckets of log-probability below the top token, each 1/16 wide, and one for everything below -32. */
const BUCKETS = 512;
const BUCKET_RANGE = 32;
const REMOVED = 0xffff;

/**
 * Nucleus sampling (Holtzman et al., 2020), with Hugging Face's `TopPLogitsWarper` semantics:
 * sort the tokens by probability, ascending; remove every token whose cumulative probability is
 * at most `1 - topP`; always keep the `minTokensToKeep` most likely. The kept set is the smallest
 * set of most likely tokens whose probability reaches `topP`.
 *
 * Ties: torch's sort leaves the order of equal values unspecified (it is stable only for small
 * tensors); here equal probabilities are ordered as a stable ascending sort orders them, so at
 * the boundary the tied token with the lower id is removed first.
 *
 * Speed: no sort of the vocabulary. Small candidate sets (after top-k) are sorted whole. Large
 * ones get one pass that drops each token into one of 513 buckets of log-probability below the
 * top token and sums each bucket's mass; the buckets above the boundary are kept whole, those
 * below are removed whole, and only the boundary bucket is sorted.
 *
 * @example
 * ```ts
 * // probabilities [0.1, 0.2, 0.3, 0.4]: the top two (0.7) reach 0.6
 * warpLogits(Float32Array.from([0.1, 0.2, 0.3, 0.4], Math.log), [new TopPWarper(0.6)]); // [-Infinity, -Infinity, log 0.3, log 0.4]
 * ```
 */
export class TopPWarper implements LogitsWarper {
  /** Always `top-p`. */
  readonly name = 'top-p';
  /** The probability mass to reach, in [0, 1]. */
  readonly topP: number;
  /** How many of the most likely tokens are always kept. */
  readonly minTokensToKeep: number;
  private readonly bucketMass = new Float64Array(BUCKETS + 1);
  private readonly bucketCount = new Int32Array(BUCKETS + 1);

  /**
   * @param topP in [0, 1]; 1 keeps everything, 0 keeps only the most likely token
   * @param minTokensToKeep a positive integer, default 1
   */
  constructor(topP: number, minTokensToKeep = 1) {
    this.topP = checkNumber('TopPWarper', 'topP', topP, { min: 0, max: 1 });
    this.minTokensToKeep = checkNumber('TopPWarper', 'minTokensToKeep', minTokensToKeep, {
      min: 1,
      integer: true,
    });
  }

  warp(candidates: Candidates): void {
    if (this.topP >= 1) return;
    const sum = candidates.exponentiate();
    // A token is removed while the cumulative mass of it and everything less likely <= limit.
    const limit = (1 - this.topP) * sum;
    if (candidates.size <= SORT_LIMIT || !this.byBuckets(candidates, limit)) {
      this.bySort(candidates, limit);
    }
  }

  /** Sorts all candidates; removes from the least likely end. */
  private bySort(candidates: Candidates, limit: number): void {
    const { order, weights, tags, size } = candidates;
    for (let i = 0; i < size; i++) {
      order[i] = i;
      tags[i] = 0;
    }
    order.subarray(0, size).sort(candidates.byScoreDescending);
    let cumulative = 0;
    for (let rank = size - 1; rank >= this.minTokensToKeep; rank--) {
      cumulative += weights[order[rank]];
      if (cumulative > limit) break;
      tags[order[rank]] = REMOVED;
    }
    compact(candidates, 0);
  }

  /** Bucketed selection; returns false (and changes nothing) when it cannot honour minTokensToKeep. */
  private byBuckets(candidates: Candidates, limit: number): boolean {
    const { scores, weights, tags, order, size, max } = candidates;
    const mass = this.bucketMass.fill(0);
    const count = this.bucketCount.fill(0);
    const perUnit = BUCKETS / BUCKET_RANGE;
    for (let i = 0; i < size; i++) {
      const below = max - scores[i]; // >= 0: how far below the top token, in log-probability
      const bucket = below < BUCKET_RANGE ? (below * perUnit) | 0 : BUCKETS;
      tags[i] = bucket;
      mass[bucket] += weights[i];
      count[bucket]++;
    }
    // The boundary: the most likely bucket such that everything less likely fits under the limit.
    let boundary = -1;
    let lower = 0; // mass of the buckets less likely than the boundary
    for (let bucket = BUCKETS; bucket >= 0; bucket--) {
      if (lower + mass[bucket] > limit) {
        boundary = bucket;
        break;
      }
      lower += mass[bucket];
    }
    if (boundary < 0) {
      boundary = 0;
      lower -= mass[0];
    }
    let keptAbove = 0;
    for (let bucket = 0; bucket < boundary; bucket++) keptAbove += count[bucket];
    // Sort the boundary bucket ascending and remove from its least likely end.
    let members = 0;
    for (let i = 0; i < size; i++) if (tags[i] === boundary) order[members++] = i;
    const boundaryOrder = order.subarray(0, members);
    boundaryOrder.sort((a, b) => candidates.byScoreDescending(b, a));
    let cumulative = lower;
    let removed = 0;
    for (; removed < members; removed++) {
      cumulative += weights[boundaryOrder[removed]];
      if (cumulative > limit) break;
    }
    if (keptAbove + members - removed < this.minTokensToKeep) return false;
    for (let j = 0; j < removed; j++) tags[boundaryOrder[j]] = REMOVED;
    compact(candidates, boundary);
    return true;
  }
}

/** Keeps the candidates whose tag is at most `highestKept`. */
function compact(candidates: Candidates, highestKept: number): void {
  const { ids, scores, tags, size } = candidates;
  let kept = 0;
  for (let i = 0; i < size; i++) {
    if (tags[i] <= highestKept) {
      ids[kept] = ids[i];
      scores[kept] = scores[i];
      kept++;
    }
  }
  candidates.size = kept;
}
