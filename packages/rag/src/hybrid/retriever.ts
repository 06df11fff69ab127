// A hybrid retriever: BM25 and vector search run side by side, their lists are fused by
// reciprocal rank, and optionally diversified with MMR. Passages carry the text and the offsets
// that `answer` cites.
import type { Bm25Index } from '../bm25/bm25-index.js';
import type { Embedder } from '../embedders/embedder.js';
import { RagError } from '../errors.js';
import type { MetadataFilter } from '../filter.js';
import type { Metadata } from '../splitters/chunk.js';
import type { StoreSearchResult, VectorStore } from '../stores/store.js';
import { reciprocalRankFusion } from './fusion.js';
import { maximalMarginalRelevance } from './mmr.js';

/** A retrieved piece of text and where it came from. */
export interface Passage {
  /** Id of the chunk. */
  id: string;
  /** The chunk's text. */
  text: string;
  /** Retrieval score, higher is better (its scale depends on the retriever). */
  score: number;
  /** Id of the source document, when known. */
  sourceId?: string;
  /** Offset of the passage in its source, when known. */
  start?: number;
  /** End offset in the source, when known. */
  end?: number;
  /** Metadata of the chunk. */
  metadata?: Metadata;
}

/** Anything that turns a question into ranked passages. */
export type Retriever = (
  query: string,
  options?: { k?: number; signal?: AbortSignal },
) => Promise<Passage[]>;

/** Options of {@link createHybridRetriever}. */
export interface HybridRetrieverOptions {
  /** The vector store holding chunk texts, metadata (`sourceId`, `start`, `end`) and embeddings. */
  store: VectorStore;
  /** Embeds the query for the vector search; omit for BM25 only. */
  embedder?: Embedder;
  /** BM25 over the same chunk ids; omit for vectors only. */
  bm25?: Bm25Index;
  /** Candidates taken from each list before fusion. Default 50. */
  candidates?: number;
  /** Passages returned. Default 5. */
  k?: number;
  /** RRF weights, `[bm25, vector]`. Default `[1, 1]`. */
  weights?: [number, number];
  /** When set, re-rank the fused candidates with MMR at this lambda (needs the embedder). */
  mmrLambda?: number;
  /** Metadata filter applied to both searches. */
  filter?: MetadataFilter;
}

/** Builds a passage from a store record whose metadata holds `sourceId`, `start` and `end`. */
export function passageFromRecord(
  record: StoreSearchResult | { id: string; text: string; metadata: Metadata },
  score: number,
): Passage {
  const { sourceId, start, end } = record.metadata as {
    sourceId?: unknown;
    start?: unknown;
    end?: unknown;
  };
  return {
    id: record.id,
    text: record.text,
    score,
    ...(typeof sourceId === 'string' ? { sourceId } : {}),
    ...(typeof start === 'number' ? { start } : {}),
    ...(typeof end === 'number' ? { end } : {}),
    metadata: record.metadata,
  };
}

/**
 * Creates a retriever over a store, fusing BM25 and vector results by reciprocal rank.
 *
 * @example
 * ```ts
 * const retrieve = createHybridRetriever({ store, bm25, embedder, k: 4 });
 * const passages = await retrieve('how is lift increased?');
 * ```
 */
export function createHybridRetriever(options: HybridRetrieverOptions): Retriever {
  if (!options.bm25 && !options.embedder)
    throw new RagError('invalid_config', 'createHybridRetriever: give bm25, embedder or both');
  if (options.mmrLambda !== undefined && !options.embedder)
    throw new RagError('invalid_config', 'createHybridRetriever: mmrLambda needs an embedder');
  const candidates = options.candidates ?? 50;
  return async (query, call = {}) => {
    const k = call.k ?? options.k ?? 5;
    const [queryVector] = options.embedder
      ? await options.embedder.embed([query], { signal: call.signal })
      : [undefined];
    const [keyword, semantic] = await Promise.all([
      options.bm25 ? options.bm25.search(query, { k: candidates, filter: options.filter }) : [],
      queryVector
        ? options.store.search(queryVector, { k: candidates, filter: options.filter })
        : [],
    ]);
    const lists =
      options.bm25 && queryVector ? [keyword, semantic] : options.bm25 ? [keyword] : [semantic];
    const weights = options.bm25 && queryVector ? options.weights : undefined;
    let fused = reciprocalRankFusion(lists, {
      weights,
      limit: options.mmrLambda === undefined ? k : candidates,
    });
    const records = new Map<
      string,
      { id: string; text: string; metadata: Metadata; vector?: Float32Array }
    >(semantic.map((r) => [r.id, r]));
    for (const hit of fused) {
      if (!records.has(hit.id)) {
        const record = await options.store.get(hit.id);
        if (record) records.set(hit.id, record);
      }
    }
    if (options.mmrLambda !== undefined && queryVector) {
      const pool = [];
      for (const hit of fused) {
        const vector = records.get(hit.id)?.vector ?? (await options.store.get(hit.id))?.vector;
        if (vector) pool.push({ id: hit.id, vector });
      }
      fused = maximalMarginalRelevance(queryVector, pool, { k, lambda: options.mmrLambda });
    }
    return fused.flatMap((hit) => {
      const record = records.get(hit.id);
      return record ? [passageFromRecord(record, hit.score)] : [];
    });
  };
}
