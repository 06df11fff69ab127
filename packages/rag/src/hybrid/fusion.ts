// Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): a document's fused score is
// sum over lists of weight / (k + rank), rank from 1. It needs no score calibration between BM25
// and vector similarity, which live on unrelated scales; k = 60 is the paper's constant.
// Worked example, k = 60: a at ranks 1 and 3 -> 1/61 + 1/63 = 0.03227; b at rank 2 only -> 1/62.
import type { SearchResult } from '../bm25/bm25-index.js';
import { RagError } from '../errors.js';

/** Options of {@link reciprocalRankFusion}. */
export interface FusionOptions {
  /** The rank constant; larger flattens the head of each list. Default 60 (the paper's). */
  k?: number;
  /** One weight per list. Default 1 each. */
  weights?: number[];
  /** Keep at most this many fused results. Default: all. */
  limit?: number;
}

/**
 * Fuses ranked lists (BM25, vectors, ...) into one by reciprocal rank.
 *
 * @example
 * ```ts
 * reciprocalRankFusion([[{ id: 'a', score: 9 }, { id: 'b', score: 5 }], [{ id: 'b', score: 0.9 }]]);
 * // [ { id: 'b', score: 0.0325... }, { id: 'a', score: 0.0163... } ]
 * ```
 */
export function reciprocalRankFusion(
  lists: readonly (readonly SearchResult[])[],
  options: FusionOptions = {},
): SearchResult[] {
  const k = options.k ?? 60;
  if (!(k >= 0))
    throw new RagError('invalid_config', `reciprocalRankFusion: k is ${k}, expected a number >= 0`);
  if (options.weights && options.weights.length !== lists.length) {
    throw new RagError(
      'invalid_config',
      `reciprocalRankFusion: ${options.weights.length} weights for ${lists.length} lists`,
    );
  }
  const fused = new Map<string, number>();
  lists.forEach((list, l) => {
    const weight = options.weights?.[l] ?? 1;
    const seen = new Set<string>();
    list.forEach((result, index) => {
      if (seen.has(result.id)) return;
      seen.add(result.id);
      fused.set(result.id, (fused.get(result.id) ?? 0) + weight / (k + index + 1));
    });
  });
  const out = [...fused].map(([id, score]) => ({ id, score }));
  out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return options.limit === undefined ? out : out.slice(0, options.limit);
}
