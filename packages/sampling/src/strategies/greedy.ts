import { allMaskedError, nanError } from '../candidates.js';

/**
 * Greedy decoding's choice: the index of the highest score, the first one on ties (as
 * `torch.argmax`). Throws `invalid_logits` on a NaN score or when every score is `-Infinity`.
 *
 * @example
 * ```ts
 * argmax(Float32Array.of(0.1, 2, 2, -1)); // 1
 * ```
 */
export function argmax(scores: ArrayLike<number>): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i];
    if (score > bestScore) {
      bestScore = score;
      best = i;
    } else if (Number.isNaN(score)) {
      throw nanError(i);
    }
  }
  if (best < 0) throw allMaskedError();
  return best;
}
