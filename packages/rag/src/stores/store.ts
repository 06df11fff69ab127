import type { Filter } from '../filter.js';
import type { LongOperationOptions } from '../progress.js';
import type { Metadata } from '../splitters/chunk.js';
import type { Metric, VectorLike } from '../vector/metric.js';

/** A record of a vector store: an id, its text (a chunk), metadata and embedding. */
export interface StoreRecord {
  /** Unique id; adding an id again replaces the record. */
  id: string;
  /** The text the vector embeds (a chunk); returned with search hits. Default ''. */
  text?: string;
  /** The embedding, of the store's dimension. */
  vector: VectorLike;
  /** Metadata: source id, offsets, headings...; filters test it. */
  metadata?: Metadata;
}

/** A search hit of a store: id, score (higher is better), text and metadata. */
export interface StoreSearchResult {
  /** Record id. */
  id: string;
  /** Score, higher is better (cosine similarity, dot product, or minus the L2 distance). */
  score: number;
  /** The record's text. */
  text: string;
  /** The record's metadata. */
  metadata: Metadata;
}

/** Options of a store search. */
export interface StoreSearchOptions {
  /** How many results, at most. Default 10. */
  k?: number;
  /** Metadata filter; SQL stores take filter objects only, not functions. */
  filter?: Filter;
  /** HNSW candidate list size (`hnsw.ef_search` in pgvector). Default: the store's. */
  efSearch?: number;
}

/** A persistent collection of embedded texts. Every method is asynchronous. */
export interface VectorStore {
  /** Vector length. */
  readonly dimension: number;
  /** How vectors are compared. */
  readonly metric: Metric;
  /** Inserts or replaces records; long batches report progress and can be aborted between batches. */
  add(records: StoreRecord[], options?: LongOperationOptions): Promise<void>;
  /** Deletes records by id; returns how many existed. */
  remove(ids: string | string[]): Promise<number>;
  /** Nearest records, best first; an empty store gives []. */
  search(vector: VectorLike, options?: StoreSearchOptions): Promise<StoreSearchResult[]>;
  /** One record with its stored vector, or undefined. */
  get(
    id: string,
  ): Promise<
    | (Omit<StoreRecord, 'vector'> & { vector: Float32Array; text: string; metadata: Metadata })
    | undefined
  >;
  /** Number of records. */
  count(): Promise<number>;
  /** Releases the database or file; the store cannot be used afterwards. */
  close(): Promise<void>;
}
