import type { SearchResult } from '../bm25/bm25-index.js';
import type { Filter } from '../filter.js';
import type { LongOperationOptions } from '../progress.js';
import type { Metadata } from '../splitters/chunk.js';
import type { Metric, VectorLike } from './metric.js';

/** An item to index: id, vector and optional metadata for filters. */
export interface VectorItem {
  /** Unique id; adding an id again replaces its vector. */
  id: string;
  /** The vector, of the index's dimension. */
  vector: VectorLike;
  /** Metadata that search filters test. */
  metadata?: Metadata;
}

/** Options of a vector search. */
export interface VectorSearchOptions {
  /** How many results, at most. Default 10. */
  k?: number;
  /** HNSW only: size of the dynamic candidate list; higher is slower and more accurate. */
  efSearch?: number;
  /** Only items whose metadata passes this filter. */
  filter?: Filter;
}

/** What the flat and HNSW indexes share; asynchronous so that stores can sit behind it. */
export interface VectorIndex {
  /** Vector length. */
  readonly dimension: number;
  /** How vectors are compared. */
  readonly metric: Metric;
  /** Number of items (removed ones excluded). */
  readonly size: number;
  /** Adds items; long batches report progress and can be aborted between items. */
  add(items: VectorItem[], options?: LongOperationOptions): Promise<void>;
  /** Removes an item; returns whether it was there. */
  remove(id: string): Promise<boolean>;
  /** Nearest items, best first, `{ id, score }` with higher scores better; an empty index gives []. */
  search(vector: VectorLike, options?: VectorSearchOptions): Promise<SearchResult[]>;
  /** The stored vector of an id (unit-normalised for cosine), or undefined. */
  getVector(id: string): Float32Array | undefined;
  /** Writes the index to `path` atomically, with a checksum (Node only). */
  save(path: string): Promise<void>;
}
