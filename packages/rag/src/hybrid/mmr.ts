// Maximal marginal relevance (Carbonell and Goldstein, SIGIR 1998): pick results one at a time,
// each maximising  lambda * sim(query, d) - (1 - lambda) * max_{s picked} sim(d, s),
// so that near-duplicates of what is already picked lose to something new. Similarity is cosine.
import { RagError } from '../errors.js';
import type { VectorLike } from '../vector/metric.js';

/** A candidate for {@link maximalMarginalRelevance}. */
export interface MmrCandidate {
  /** Id of the candidate. */
  id: string;
  /** Its vector. */
  vector: VectorLike;
}

/** Options of {@link maximalMarginalRelevance}. */
export interface MmrOptions {
  /** How many to pick. Default 5. */
  k?: number;
  /** 1 is pure relevance, 0 pure diversity. Default 0.5. */
  lambda?: number;
}

function cosine(a: VectorLike, b: VectorLike): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Re-ranks candidates for relevance and diversity; returns the picked ids with their MMR scores,
 * in pick order.
 *
 * @example
 * ```ts
 * maximalMarginalRelevance([1, 0], [
 *   { id: 'a', vector: [1, 0] }, { id: 'a-copy', vector: [1, 0.01] }, { id: 'b', vector: [0.7, 0.7] },
 * ], { k: 2, lambda: 0.3 }).map((r) => r.id); // [ 'a', 'b' ]
 * ```
 */
export function maximalMarginalRelevance(
  query: VectorLike,
  candidates: readonly MmrCandidate[],
  options: MmrOptions = {},
): { id: string; score: number }[] {
  const k = Math.min(options.k ?? 5, candidates.length);
  const lambda = options.lambda ?? 0.5;
  if (!(lambda >= 0 && lambda <= 1))
    throw new RagError(
      'invalid_config',
      `maximalMarginalRelevance: lambda is ${lambda}, expected a number in [0, 1]`,
    );
  for (const candidate of candidates) {
    if (candidate.vector.length !== query.length) {
      throw new RagError(
        'dimension_mismatch',
        `maximalMarginalRelevance: candidate "${candidate.id}" has dimension ${candidate.vector.length}, the query has dimension ${query.length}`,
      );
    }
  }
  const relevance = candidates.map((c) => cosine(query, c.vector));
  // most similar picked item so far, per candidate
  const redundancy = new Float64Array(candidates.length).fill(Number.NEGATIVE_INFINITY);
  const picked = new Uint8Array(candidates.length);
  const out: { id: string; score: number }[] = [];
  for (let round = 0; round < k; round++) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < candidates.length; i++) {
      if (picked[i]) continue;
      const penalty = out.length === 0 ? 0 : redundancy[i];
      const score = lambda * relevance[i] - (1 - lambda) * penalty;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    picked[best] = 1;
    out.push({ id: candidates[best].id, score: bestScore });
    for (let i = 0; i < candidates.length; i++) {
      if (!picked[i])
        redundancy[i] = Math.max(
          redundancy[i],
          cosine(candidates[i].vector, candidates[best].vector),
        );
    }
  }
  return out;
}
