import type { Candidates } from '../candidates.js';
import { checkNumber } from '@llmkit/utils';
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
 * below are removed whole, and only the boundary bucket is refined (and finally sorted). On a
 * whole vocabulary that first pass stores nothing per token, and a second, cheap pass copies
 * out only the kept and boundary tokens: about one exponential per token in all.
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
      this.firstRoundDense(candidates);
    } else {
      const sum = candidates.exponentiate();
      this.limit = (1 - this.topP) * sum;
      if (candidates.size <= SORT_LIMIT) {
        this.bySort(candidates);
        return;
      }
      this.firstRoundSparse(candidates);
    }
    // Only when fewer than minTokensToKeep would survive: then exactly the top ones do.
    if (!this.refine(candidates)) this.bySort(candidates, true);
  }

  /** A token is removed while the mass of it and everything less likely is at most this. */
  private limit = 0;
  /** Mass of the tokens removed so far (all less likely than the undecided ones). */
  private lower = 0;
  /** The undecided (boundary) tokens are positions order[0..members). */
  private members = 0;

  /**
   * Sorts all candidates ascending and removes from the least likely end; with `onlyTop`, keeps
   * just the `minTokensToKeep` most likely.
   */
  private bySort(candidates: Candidates, onlyTop = false): void {
    candidates.materialize();
    if (!candidates.weightsFresh) candidates.exponentiate();
    const { order, weights, tags, scores, ids, size } = candidates;
    for (let i = 0; i < size; i++) {
      order[i] = i;
      tags[i] = 0;
    }
    sortByKey(order, size, scores, ids);
    let cumulative = 0;
    for (let rank = 0; rank < size - this.minTokensToKeep; rank++) {
      cumulative += weights[order[rank]];
      if (cumulative > this.limit && !onlyTop) break;
      tags[order[rank]] = REMOVED;
    }
    compact(candidates);
  }

  /**
   * The first round on a whole vocabulary, in two passes over it: (1) exponentiate and sum per
   * bucket over [max - BUCKET_RANGE, max], storing nothing per token; (2) find the boundary and copy
   * out the tokens above it and in it, with their weights (the only exponentials recomputed).
   */
  private firstRoundDense(candidates: Candidates): void {
    const { source, ids, scores, weights, order } = candidates;
    const scale = candidates.scale;
    const max = source[argmax(source)] * scale;
    const sum = bucketMasses(source, scale, max, this.bucketMass.fill(0));
    if (!(sum > 0) || !Number.isFinite(sum)) {
      throw new SamplingError('invalid_logits', 'sample: logits contain +Infinity');
    }
    this.limit = (1 - this.topP) * sum;
    const boundary = this.findBoundary(0);
    const out = this.copyResult;
    copyOut(source, scale, max, boundary, ids, scores, weights, order, out);
    const size = out[0];
    candidates.dense = false;
    candidates.size = size;
    candidates.max = max;
    candidates.weightSum = out[2];
    candidates.weightsFresh = true;
    this.members = out[1];
    candidates.tags.fill(0, 0, size);
  }

  /** copyOut's results: size, members, kept weight sum. */
  private readonly copyResult = new Float64Array(3);

  /** The first round on a materialized set: bucket, find the boundary, compact in one pass. */
  private firstRoundSparse(candidates: Candidates): void {
    const { scores, weights, ids, order, size, max } = candidates;
    if (this.bucketOf.length < size) this.bucketOf = new Uint16Array(candidates.vocabSize);
    const bucketOf = this.bucketOf;
    const mass = this.bucketMass.fill(0);
    const perUnit = (BUCKETS - 1) / BUCKET_RANGE;
    for (let i = 0; i < size; i++) {
      const below = max - scores[i];
      const bucket = below <= BUCKET_RANGE ? (below * perUnit) | 0 : BUCKETS;
      bucketOf[i] = bucket;
      mass[bucket] += weights[i];
    }
    const boundary = this.findBoundary(0);
    let kept = 0;
    let members = 0;
    let keptSum = 0;
    for (let i = 0; i < size; i++) {
      const bucket = bucketOf[i];
      if (bucket > boundary) continue;
      if (bucket === boundary) order[members++] = kept;
      ids[kept] = ids[i];
      scores[kept] = scores[i];
      weights[kept] = weights[i];
      keptSum += weights[i];
      kept++;
    }
    candidates.size = kept;
    candidates.weightSum = keptSum;
    this.members = members;
    candidates.tags.fill(0, 0, kept);
  }

  /**
   * Given masses per bucket (most likely first) and `this.lower` from earlier rounds (reset here
   * when `round` is 0), returns the boundary bucket: the most likely one such that everything
   * less likely fits under the limit. Adds the mass of the buckets below it to `this.lower`.
   */
  private findBoundary(round: number): number {
    const mass = this.bucketMass;
    if (round === 0) this.lower = 0;
    for (let bucket = BUCKETS; bucket >= 0; bucket--) {
      if (this.lower + mass[bucket] > this.limit) return bucket;
      this.lower += mass[bucket];
    }
    this.lower -= mass[0];
    return 0;
  }

  /**
   * Narrows the boundary tokens order[0..members) by more rounds of buckets over their own score
   * range until few enough to sort, then removes from the least likely end. Returns false,
   * changing nothing yet, when the result would keep fewer than minTokensToKeep.
   */
  private refine(candidates: Candidates): boolean {
    const { scores, weights, tags, order, ids, size } = candidates;
    if (this.bucketOf.length < size) this.bucketOf = new Uint16Array(candidates.vocabSize);
    const bucketOf = this.bucketOf;
    const mass = this.bucketMass;
    let members = this.members;
    let removedTotal = 0;
    for (let round = 1; members > SORT_LIMIT; round++) {
      let high = -Infinity;
      let low = Infinity;
      for (let m = 0; m < members; m++) {
        const score = scores[order[m]];
        if (score > high) high = score;
        if (score < low) low = score;
      }
      if (high - low > BUCKET_RANGE) low = high - BUCKET_RANGE; // the rest share the last bucket
      if (!(high > low)) break; // all tied: only their ids order them
      const perUnit = (BUCKETS - 1) / (high - low);
      mass.fill(0);
      for (let m = 0; m < members; m++) {
        const i = order[m];
        const below = high - scores[i];
        const bucket = below <= high - low ? (below * perUnit) | 0 : BUCKETS;
        bucketOf[i] = bucket;
        mass[bucket] += weights[i];
      }
      const boundary = this.findBoundary(round);
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
    let cumulative = this.lower;
    let removed = 0;
    for (; removed < members; removed++) {
      cumulative += weights[rest[removed]];
      if (cumulative > this.limit) break;
    }
    if (size - removedTotal - removed < this.minTokensToKeep) return false;
    for (let m = 0; m < removed; m++) tags[rest[m]] = REMOVED;
    compact(candidates);
    return true;
  }
}

/**
 * Keeps the candidates whose tag is not REMOVED, moving their weights along: the top token stays,
 * so the weights (relative to it) remain valid for sampling.
 */
function compact(candidates: Candidates): void {
  const { ids, scores, weights, tags, size } = candidates;
  let kept = 0;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    if (tags[i] !== REMOVED) {
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

/**
 * Pass 1 over a whole vocabulary: adds each token's weight `exp(score - max)` to its bucket of
 * `mass` (buckets over [max - BUCKET_RANGE, max], the last for everything lower) and returns the
 * total. Stores nothing per token. A plain function over typed arrays so it optimizes once.
 */
function bucketMasses(
  source: Float32Array,
  scale: number,
  max: number,
  mass: Float64Array,
): number {
  const perUnit = (BUCKETS - 1) / BUCKET_RANGE;
  let sum = 0;
  let nan = -1;
  for (let id = 0; id < source.length; id++) {
    const below = max - source[id] * scale; // >= 0: how far below the top token
    const weight = Math.exp(-below); // 0 for -Infinity logits, NaN for NaN
    const bucket = below <= BUCKET_RANGE ? (below * perUnit) | 0 : BUCKETS;
    mass[bucket] += weight;
    sum += weight;
    if (Number.isNaN(weight)) nan = id;
  }
  if (nan >= 0) {
    if (Number.isNaN(source[nan])) throw nanError(nan);
    throw new SamplingError('invalid_logits', `sample: logit of token ${nan} is +Infinity`);
  }
  return sum;
}

/**
 * Pass 2: copies out the tokens in buckets up to `boundary` (the boundary bucket's positions also
 * into `order`), with their weights. Writes [size, members, kept weight sum] into `out`.
 */
function copyOut(
  source: Float32Array,
  scale: number,
  max: number,
  boundary: number,
  ids: Int32Array,
  scores: Float64Array,
  weights: Float64Array,
  order: Int32Array,
  out: Float64Array,
): void {
  const perUnit = (BUCKETS - 1) / BUCKET_RANGE;
  // Tokens this far below the top are past the boundary (half a bucket of slack for rounding;
  // the exact bucket test below decides).
  const cutoff = boundary === BUCKETS ? Infinity : (boundary + 1.5) / perUnit;
  let size = 0;
  let members = 0;
  let sum = 0;
  for (let id = 0; id < source.length; id++) {
    const score = source[id] * scale;
    const below = max - score;
    if (!(below < cutoff) || score === -Infinity) continue;
    const bucket = below <= BUCKET_RANGE ? (below * perUnit) | 0 : BUCKETS;
    if (bucket > boundary) continue;
    if (bucket === boundary) order[members++] = size;
    const weight = Math.exp(-below);
    ids[size] = id;
    scores[size] = score;
    weights[size] = weight;
    sum += weight;
    size++;
  }
  out[0] = size;
  out[1] = members;
  out[2] = sum;
}
