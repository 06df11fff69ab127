import type { Candidates } from '../candidates.js';
import { allMaskedError, nanError } from '../errors.js';
import { checkNumber } from '@llmkit/utils';
import type { LogitsWarper } from './types.js';

/**
 * Keeps the `topK` highest-scoring tokens (Hugging Face's `TopKLogitsWarper`): every token whose
 * score is at least the `topK`-th highest, so tokens tied with it are all kept and the set can be
 * larger than `topK`.
 *
 * One pass over the vocabulary with a min-heap of `topK` entries (most tokens cost a single
 * comparison with the heap's root), no sort. While scanning it remembers the highest score left
 * out; only if that equals the threshold (a tie) does a second pass collect the tied tokens.
 *
 * @example
 * ```ts
 * warpLogits(Float32Array.of(1, 3, 2, 3), [new TopKWarper(2)]); // Float32Array [-Infinity, 3, -Infinity, 3]
 * ```
 */
export class TopKWarper implements LogitsWarper {
  /** Always `top-k`. */
  readonly name = 'top-k';
  /** How many tokens to keep: `max(topK, minTokensToKeep)`. */
  readonly topK: number;
  private heapScores = new Float64Array(0);
  private heapIds = new Int32Array(0);

  /**
   * @param topK a positive integer
   * @param minTokensToKeep keep at least this many (Hugging Face's `min_tokens_to_keep`), default 1
   */
  constructor(topK: number, minTokensToKeep = 1) {
    checkNumber('TopKWarper', 'topK', topK, { min: 1, integer: true });
    checkNumber('TopKWarper', 'minTokensToKeep', minTokensToKeep, { min: 1, integer: true });
    this.topK = Math.max(topK, minTokensToKeep);
  }

  warp(candidates: Candidates): void {
    const k = this.topK;
    if (candidates.size <= k) {
      if (!candidates.dense) return;
      candidates.materialize(); // drops -Infinity tokens, checks for NaN
      return;
    }
    if (this.heapScores.length < k) {
      this.heapScores = new Float64Array(k);
      this.heapIds = new Int32Array(k);
    }
    const heapScores = this.heapScores;
    const heapIds = this.heapIds;
    const dense = candidates.dense;
    const source = candidates.source;
    const scores = candidates.scores;
    const ids = candidates.ids;
    const n = candidates.size;

    // Fill the heap with the first k entries, then heapify (min at the root).
    for (let i = 0; i < k; i++) {
      const value = dense ? source[i] : scores[i];
      if (Number.isNaN(value)) throw nanError(dense ? i : ids[i]);
      heapScores[i] = value;
      heapIds[i] = dense ? i : ids[i];
    }
    for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(heapScores, heapIds, k, i);

    // Scan the rest with one comparison per token. `maxLeftOut` is the highest score left out
    // that could still equal the final threshold: an evicted root or a value equal to the root
    // (anything below the root then is below the final threshold, which only grows).
    let root = heapScores[0];
    let maxLeftOut = -Infinity;
    if (dense) {
      // Eight scores per test: most blocks hold nothing at or above the root, and a block that
      // does is walked one token at a time.
      let id = k;
      const blockEnd = k + ((n - k) & ~7);
      for (; id < blockEnd; id += 8) {
        if (
          source[id] < root &&
          source[id + 1] < root &&
          source[id + 2] < root &&
          source[id + 3] < root &&
          source[id + 4] < root &&
          source[id + 5] < root &&
          source[id + 6] < root &&
          source[id + 7] < root
        ) {
          continue;
        }
        for (let j = id; j < id + 8; j++) {
          const value = source[j];
          if (!(value >= root)) continue; // also skips NaN
          if (value === root) {
            if (value > maxLeftOut) maxLeftOut = value;
            continue;
          }
          if (root > maxLeftOut) maxLeftOut = root;
          root = replaceRoot(heapScores, heapIds, k, value, j);
        }
      }
      for (; id < n; id++) {
        const value = source[id];
        if (!(value >= root)) continue;
        if (value === root) {
          if (value > maxLeftOut) maxLeftOut = value;
          continue;
        }
        if (root > maxLeftOut) maxLeftOut = root;
        root = replaceRoot(heapScores, heapIds, k, value, id);
      }
    } else {
      for (let i = k; i < n; i++) {
        const value = scores[i];
        if (value >= root) {
          if (value === root) {
            if (value > maxLeftOut) maxLeftOut = value;
            continue;
          }
          if (root > maxLeftOut) maxLeftOut = root;
          heapScores[0] = value;
          heapIds[0] = ids[i];
          siftDown(heapScores, heapIds, k, 0);
          root = heapScores[0];
        }
      }
    }

    const threshold = root;
    const scale = dense ? candidates.scale : 1;
    if (maxLeftOut === threshold) {
      // Ties with the k-th score outside the heap: keep every token scoring >= threshold.
      let size = 0;
      for (let i = 0; i < n; i++) {
        const value = dense ? source[i] : scores[i];
        if (value >= threshold && value > -Infinity) {
          const id = dense ? i : ids[i];
          ids[size] = id;
          scores[size] = value * scale;
          size++;
        }
      }
      candidates.size = size;
    } else {
      let size = 0;
      for (let i = 0; i < k; i++) {
        if (heapScores[i] > -Infinity) {
          ids[size] = heapIds[i];
          scores[size] = heapScores[i] * scale;
          size++;
        }
      }
      candidates.size = size;
    }
    candidates.dense = false;
    candidates.weightsFresh = false;
    if (candidates.size === 0) throw allMaskedError();
  }
}

/** Replaces the heap's root (its minimum) and returns the new minimum. */
function replaceRoot(
  scores: Float64Array,
  ids: Int32Array,
  size: number,
  score: number,
  id: number,
): number {
  scores[0] = score;
  ids[0] = id;
  siftDown(scores, ids, size, 0);
  return scores[0];
}

/** Restores the min-heap property below `position` (scores and ids move together). */
function siftDown(scores: Float64Array, ids: Int32Array, size: number, position: number): void {
  const score = scores[position];
  const id = ids[position];
  let i = position;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && scores[child + 1] < scores[child]) child++;
    if (scores[child] >= score) break;
    scores[i] = scores[child];
    ids[i] = ids[child];
    i = child;
  }
  scores[i] = score;
  ids[i] = id;
}
