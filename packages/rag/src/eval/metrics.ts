// Retrieval metrics over a run (ranked results per query) and qrels (judged gains per query):
//
//   nDCG@k   DCG@k / ideal DCG@k, DCG@k = sum_{i=1..k} gain_i / log2(i + 1)   (linear gains, as
//            trec_eval's ndcg_cut; the ideal ranking sorts all judged gains of the query)
//   AP       mean over the query's relevant documents of precision at the rank where each is
//            found (0 for those never found); MAP is its mean over queries
//   recall@k relevant documents in the top k / relevant documents
//   MRR      mean of 1 / rank of the first relevant document (0 when none is found)
//
// A document is relevant when its gain is > 0. Each run list is taken in the order given (sort it
// best first). Queries are those of the qrels with at least one relevant document; a query the run
// lacks scores 0 on every metric.
import { RagError } from '../errors.js';

/** Ranked ids per query: a list of `{ id }` (search results fit) or of ids. */
export type Run = Record<string, readonly ({ id: string } | string)[]>;

/** Judgements per query: document id -> gain (> 0 relevant, higher better). */
export type Qrels = Record<string, Record<string, number>>;

/** Options of {@link evaluateRetrieval}. */
export interface EvaluateOptions {
  /** Cut-offs for nDCG@k and recall@k. Default [10, 100]. */
  cutoffs?: number[];
}

/** Metrics of one query. */
export interface QueryMetrics {
  /** nDCG at each cut-off. */
  ndcg: Record<number, number>;
  /** Recall at each cut-off. */
  recall: Record<number, number>;
  /** Average precision (whole run). */
  averagePrecision: number;
  /** Reciprocal rank of the first relevant document. */
  reciprocalRank: number;
}

/** What {@link evaluateRetrieval} returns: means over queries, and each query's figures. */
export interface RetrievalMetrics {
  /** Mean nDCG at each cut-off, e.g. `ndcg[10]`. */
  ndcg: Record<number, number>;
  /** Mean recall at each cut-off, e.g. `recall[100]`. */
  recall: Record<number, number>;
  /** Mean average precision. */
  map: number;
  /** Mean reciprocal rank. */
  mrr: number;
  /** Number of queries averaged over. */
  queryCount: number;
  /** Per-query metrics, by query id. */
  perQuery: Record<string, QueryMetrics>;
}

/**
 * Scores a run against judgements: nDCG@k, MAP, recall@k, MRR.
 *
 * @example
 * ```ts
 * const m = evaluateRetrieval({ q1: ['d2', 'd1'] }, { q1: { d1: 2, d3: 1 } }, { cutoffs: [2] });
 * // m.recall[2] === 0.5, m.mrr === 0.5, m.map === 0.25
 * ```
 */
export function evaluateRetrieval(
  run: Run,
  qrels: Qrels,
  options: EvaluateOptions = {},
): RetrievalMetrics {
  const cutoffs = options.cutoffs ?? [10, 100];
  for (const k of cutoffs) {
    if (!Number.isInteger(k) || k < 1)
      throw new RagError(
        'invalid_config',
        `evaluateRetrieval: cutoff ${k}, expected an integer >= 1`,
      );
  }
  const perQuery: Record<string, QueryMetrics> = {};
  const sums = { ndcg: zeros(cutoffs), recall: zeros(cutoffs), map: 0, mrr: 0 };
  let queryCount = 0;
  for (const [queryId, judged] of Object.entries(qrels)) {
    const gains = Object.values(judged).filter((g) => g > 0);
    if (gains.length === 0) continue;
    queryCount++;
    const ranked = (run[queryId] ?? []).map((r) => (typeof r === 'string' ? r : r.id));
    const metrics = scoreQuery(ranked, judged, gains, cutoffs);
    perQuery[queryId] = metrics;
    for (const k of cutoffs) {
      sums.ndcg[k] += metrics.ndcg[k];
      sums.recall[k] += metrics.recall[k];
    }
    sums.map += metrics.averagePrecision;
    sums.mrr += metrics.reciprocalRank;
  }
  const mean = (x: number) => (queryCount === 0 ? 0 : x / queryCount);
  return {
    ndcg: Object.fromEntries(cutoffs.map((k) => [k, mean(sums.ndcg[k])])),
    recall: Object.fromEntries(cutoffs.map((k) => [k, mean(sums.recall[k])])),
    map: mean(sums.map),
    mrr: mean(sums.mrr),
    queryCount,
    perQuery,
  };
}

function zeros(cutoffs: number[]): Record<number, number> {
  return Object.fromEntries(cutoffs.map((k) => [k, 0]));
}

function scoreQuery(
  ranked: string[],
  judged: Record<string, number>,
  gains: number[],
  cutoffs: number[],
): QueryMetrics {
  const relevantCount = gains.length;
  const ideal = [...gains].sort((a, b) => b - a);
  const seen = new Set<string>();
  let found = 0;
  let precisionSum = 0;
  let reciprocalRank = 0;
  const ndcg: Record<number, number> = {};
  const recall: Record<number, number> = {};
  const maxK = Math.max(...cutoffs);
  let dcg = 0;
  const dcgAt: number[] = [];
  for (let i = 0; i < Math.max(ranked.length, maxK); i++) {
    const id = ranked[i];
    // a repeated id counts once, at its first rank
    const gain = id !== undefined && !seen.has(id) ? (judged[id] ?? 0) : 0;
    if (id !== undefined) seen.add(id);
    if (gain > 0) {
      found++;
      precisionSum += found / (i + 1);
      if (reciprocalRank === 0) reciprocalRank = 1 / (i + 1);
    }
    if (i < maxK) {
      dcg += gain > 0 ? gain / Math.log2(i + 2) : 0;
      dcgAt[i + 1] = dcg;
      for (const k of cutoffs) if (k === i + 1) recall[k] = found / relevantCount;
    }
  }
  for (const k of cutoffs) {
    let idealDcg = 0;
    for (let i = 0; i < Math.min(k, ideal.length); i++) idealDcg += ideal[i] / Math.log2(i + 2);
    ndcg[k] = dcgAt[k] / idealDcg;
  }
  return { ndcg, recall, averagePrecision: precisionSum / relevantCount, reciprocalRank };
}
