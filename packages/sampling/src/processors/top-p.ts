import type { Candidates } from '../candidates.js';
import { checkNumber } from '../config.js';
import { nanError, SamplingError } from '../errors.js';
import { sortByKey } from '../sort.js';
import { argmax } from '../strategies/greedy.js';
import type { LogitsWarper } from './types.js';

/** Below this many candidates top-p sorts them all; above, it sorts only one bucket. */
const SORT_LIMIT = 1024;
/** Buckets per round, plus one for everything more than BUCKET_RANGE below the top token. */
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
 * below are removed whole, and only the boundary bucket is refined (and finally sorted).
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
  private bucketOf = new Uint16Array(0);

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
    if (candidates.dense && candidates.vocabSize > SORT_LIMIT) {
      // The whole vocabulary: copy, exponentiate and bucket it in one pass.
      const sum = this.denseFirstRound(candidates);
      const limit = (1 - this.topP) * sum;
      if (!this.byBuckets(candidates, limit, true)) this.bySort(candidates, limit);
      return;
    }
    const sum = candidates.exponentiate();
    // A token is removed while the cumulative mass of it and everything less likely <= limit.
    const limit = (1 - this.topP) * sum;
    if (candidates.size <= SORT_LIMIT || !this.byBuckets(candidates, limit)) {
      this.bySort(candidates, limit);
    }
  }

  /** Sorts all candidates ascending; removes from the least likely end. */
  private bySort(candidates: Candidates, limit: number): void {
    const { order, weights, tags, scores, ids, size } = candidates;
    for (let i = 0; i < size; i++) {
      order[i] = i;
      tags[i] = 0;
    }
    sortByKey(order, size, scores, ids);
    let cumulative = 0;
    for (let rank = 0; rank < size - this.minTokensToKeep; rank++) {
      cumulative += weights[order[rank]];
      if (cumulative > limit) break;
      tags[order[rank]] = REMOVED;
    }
    compact(candidates, 0);
  }

  /**
   * Materializes a dense set, fills the weights and does the first bucketing round (buckets over
   * [max - BUCKET_RANGE, max]) in a single pass over the vocabulary; returns the weights' sum.
   */
  private denseFirstRound(candidates: Candidates): number {
    const { source, ids, scores, weights } = candidates;
    const scale = candidates.scale;
    const max = source[argmax(source)] * scale;
    if (this.bucketOf.length < source.length) this.bucketOf = new Uint16Array(source.length);
    const bucketOf = this.bucketOf;
    const mass = this.bucketMass.fill(0);
    const count = this.bucketCount.fill(0);
    const perUnit = (BUCKETS - 1) / BUCKET_RANGE;
    let size = 0;
    let sum = 0;
    for (let id = 0; id < source.length; id++) {
      const raw = source[id];
      if (!(raw > -Infinity)) {
        if (Number.isNaN(raw)) throw nanError(id);
        continue;
      }
      const score = raw * scale;
      const below = max - score; // >= 0: how far below the top token, in log-probability
      const weight = Math.exp(-below);
      const bucket = below <= BUCKET_RANGE ? (below * perUnit) | 0 : BUCKETS;
      ids[size] = id;
      scores[size] = score;
      weights[size] = weight;
      bucketOf[size] = bucket;
      mass[bucket] += weight;
      count[bucket]++;
      sum += weight;
      size++;
    }
    if (!(sum > 0) || !Number.isFinite(sum)) {
      throw new SamplingError('invalid_logits', 'sample: logits contain +Infinity');
    }
    candidates.dense = false;
    candidates.size = size;
    candidates.max = max;
    candidates.weightSum = sum;
    candidates.weightsFresh = true;
    return sum;
  }

  /**
   * Bucketed selection; returns false (changing nothing) when it cannot honour minTokensToKeep.
   * Each round splits the undecided tokens into buckets by score, keeps the buckets above the
   * boundary, removes those below it, and repeats inside the boundary bucket until it is small
   * enough to sort (a flat distribution takes a few rounds, a peaked one usually one).
   */
  private byBuckets(candidates: Candidates, limit: number, firstRoundDone = false): boolean {
    const { scores, weights, tags, order, ids, size, max } = candidates;
    if (this.bucketOf.length < size) this.bucketOf = new Uint16Array(candidates.vocabSize);
    const bucketOf = this.bucketOf;
    const mass = this.bucketMass;
    const count = this.bucketCount;
    let members = size; // the undecided tokens: positions order[0..members)
    for (let i = 0; i < size; i++) {
      order[i] = i;
      tags[i] = 0;
    }
    let lower = 0; // mass of the tokens removed so far, all less likely than the undecided ones
    let removedTotal = 0;
    for (let round = 0; members > SORT_LIMIT; round++) {
      if (round > 0 || !firstRoundDone) {
        let high = -Infinity;
        let low = Infinity;
        for (let m = 0; m < members; m++) {
          const score = scores[order[m]];
          if (score > high) high = score;
          if (score < low) low = score;
        }
        if (round === 0) high = max;
        if (high - low > BUCKET_RANGE) low = high - BUCKET_RANGE; // the rest share the last bucket
        if (!(high > low)) break; // all tied: only their ids order them
        const perUnit = (BUCKETS - 1) / (high - low);
        mass.fill(0);
        count.fill(0);
        for (let m = 0; m < members; m++) {
          const i = order[m];
          const below = high - scores[i];
          const bucket = below <= high - low ? (below * perUnit) | 0 : BUCKETS;
          bucketOf[i] = bucket;
          mass[bucket] += weights[i];
          count[bucket]++;
        }
      }
      // The boundary: the most likely bucket such that everything less likely fits under the limit.
      let boundary = -1;
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
      let next = 0;
      for (let m = 0; m < members; m++) {
        const i = order[m];
        const bucket = bucketOf[i];
        if (bucket === boundary) order[next++] = i;
        else if (bucket > boundary) {
          tags[i] = REMOVED;
          removedTotal++;
        }
      }
      members = next;
    }
    // Sort what is left ascending and remove from its least likely end.
    const rest = order.subarray(0, members);
    sortByKey(rest, members, scores, ids);
    let cumulative = lower;
    let removed = 0;
    for (; removed < members; removed++) {
      cumulative += weights[rest[removed]];
      if (cumulative > limit) break;
    }
    if (size - removedTotal - removed < this.minTokensToKeep) return false;
    for (let m = 0; m < removed; m++) tags[rest[m]] = REMOVED;
    compact(candidates, 0);
    return true;
  }
}

/**
 * Keeps the candidates whose tag is at most `highestKept`, moving their weights along: the top
 * token stays, so the weights (relative to it) remain valid for sampling.
 */
function compact(candidates: Candidates, highestKept: number): void {
  const { ids, scores, weights, tags, size } = candidates;
  let kept = 0;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    if (tags[i] <= highestKept) {
      ids[kept] = ids[i];
      scores[kept] = scores[i];
      weights[kept] = weights[i];
      sum += weights[i];
      kept++;
    }
  }
  candidates.size = kept;
  candidates.weightSum = sum;
  candidates.weightsFresh = true;
}
