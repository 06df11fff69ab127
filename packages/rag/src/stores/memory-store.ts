// An in-memory store: records in a Map, vectors in a flat or HNSW index, and optional persistence
// to one checksummed file written atomically. On open the index is rebuilt from the saved vectors
// (quick for flat; for HNSW it takes the build time again, so large collections belong in PGlite).
import { RagError } from '../errors.js';
import { readFloat32, readIndexFile, writeIndexFile } from '../file.js';
import { validateFilter } from '../filter.js';
import { createHnswIndex, type HnswIndexOptions } from '../hnsw/hnsw-index.js';
import type { LongOperationOptions } from '../progress.js';
import type { Metadata } from '../splitters/chunk.js';
import { createFlatIndex } from '../vector/flat-index.js';
import { type Metric, validateVectorOptions, type VectorLike } from '../vector/metric.js';
import type { VectorIndex } from '../vector/vector-index.js';
import type { StoreRecord, StoreSearchOptions, StoreSearchResult, VectorStore } from './store.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Vector length. */
  dimension: number;
  /** How vectors are compared. Default `cosine`. */
  metric?: Metric;
  /** `flat` (exact, default) or `hnsw` (approximate, for many vectors). */
  index?: 'flat' | 'hnsw';
  /** HNSW settings when `index` is `hnsw`. */
  hnsw?: Omit<HnswIndexOptions, 'dimension' | 'metric'>;
  /** File that `save()` writes; `openMemoryStore(path)` reads it back. */
  path?: string;
}

/** A memory store adds `save`, which writes the whole store to its file atomically. */
export interface MemoryStore extends VectorStore {
  /** Writes every record to `path` (default: the store's path) atomically, with a checksum. */
  save(path?: string): Promise<void>;
}

const KIND = 'memory-store';
const VERSION = 1;

/**
 * Creates an empty in-memory store.
 *
 * @example
 * ```ts
 * const store = createMemoryStore({ dimension: 2, path: './notes.store' });
 * await store.add([{ id: 'a', text: 'hello', vector: [1, 0] }]);
 * await store.save();
 * const again = await openMemoryStore('./notes.store');
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions): MemoryStore {
  const metric = options.metric ?? 'cosine';
  validateVectorOptions('createMemoryStore', options.dimension, metric);
  return new MemoryStoreImpl({ ...options, metric });
}

class MemoryStoreImpl implements MemoryStore {
  readonly index: VectorIndex;
  readonly records = new Map<string, { text: string; metadata: Metadata; vector: Float32Array }>();
  private closed = false;

  constructor(readonly options: MemoryStoreOptions & { metric: Metric }) {
    this.index =
      options.index === 'hnsw'
        ? createHnswIndex({ ...options.hnsw, dimension: options.dimension, metric: options.metric })
        : createFlatIndex({ dimension: options.dimension, metric: options.metric });
  }

  get dimension(): number {
    return this.options.dimension;
  }

  get metric(): Metric {
    return this.options.metric;
  }

  private open(what: string): void {
    if (this.closed) throw new RagError('closed', `${what}: the store is closed`);
  }

  async add(records: StoreRecord[], options: LongOperationOptions = {}): Promise<void> {
    this.open('store add');
    for (const record of records) {
      if (record?.vector?.length !== this.dimension) {
        throw new RagError(
          'dimension_mismatch',
          `store add "${record?.id}": vector has dimension ${record?.vector?.length}, the store has dimension ${this.dimension}`,
        );
      }
    }
    const items = records.map((record) => ({
      id: record.id,
      vector: record.vector,
      metadata: record.metadata,
    }));
    await this.index.add(items, options);
    for (const record of records) {
      this.records.set(record.id, {
        text: record.text ?? '',
        metadata: record.metadata ?? {},
        vector: Float32Array.from(record.vector),
      });
    }
  }

  async remove(ids: string | string[]): Promise<number> {
    this.open('store remove');
    let removed = 0;
    for (const id of Array.isArray(ids) ? ids : [ids]) {
      if (await this.index.remove(id)) removed++;
      this.records.delete(id);
    }
    return removed;
  }

  async search(vector: VectorLike, options: StoreSearchOptions = {}): Promise<StoreSearchResult[]> {
    this.open('store search');
    validateFilter(options.filter);
    const hits = await this.index.search(vector, options);
    return hits.flatMap((hit) => {
      const record = this.records.get(hit.id);
      return record
        ? [{ id: hit.id, score: hit.score, text: record.text, metadata: record.metadata }]
        : [];
    });
  }

  async get(id: string) {
    this.open('store get');
    const record = this.records.get(id);
    return (
      record && { id, text: record.text, metadata: record.metadata, vector: record.vector.slice() }
    );
  }

  async count(): Promise<number> {
    return this.records.size;
  }

  async save(path = this.options.path): Promise<void> {
    this.open('store save');
    if (!path)
      throw new RagError(
        'invalid_argument',
        'memory store save: no path given and the store was created without one',
      );
    // snapshot synchronously, so concurrent adds cannot tear the file
    const ids = [...this.records.keys()];
    const vectors = new Float32Array(ids.length * this.dimension);
    const texts: string[] = [];
    const metadata: Metadata[] = [];
    ids.forEach((id, i) => {
      const record = this.records.get(id)!;
      vectors.set(record.vector, i * this.dimension);
      texts.push(record.text);
      metadata.push(record.metadata);
    });
    const json = new TextEncoder().encode(JSON.stringify({ ids, texts, metadata }));
    const { path: _path, ...settings } = this.options;
    await writeIndexFile(
      path,
      KIND,
      VERSION,
      { settings, count: ids.length, jsonBytes: json.length },
      [vectors, json],
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Opens a store saved by `save()`; the index is rebuilt from the saved vectors (with progress for
 * HNSW). A damaged file throws `RagError('corrupt_file')` naming it.
 */
export async function openMemoryStore(
  path: string,
  options: LongOperationOptions = {},
): Promise<MemoryStore> {
  const { header, payload } = await readIndexFile<{
    settings: MemoryStoreOptions & { metric: Metric };
    count: number;
    jsonBytes: number;
  }>(path, KIND, VERSION);
  const store = new MemoryStoreImpl({ ...header.settings, path });
  const { dimension } = header.settings;
  const vectors = readFloat32(payload, 0, header.count * dimension);
  const vectorBytes = header.count * dimension * 4;
  const { ids, texts, metadata } = JSON.parse(
    new TextDecoder().decode(payload.subarray(vectorBytes, vectorBytes + header.jsonBytes)),
  );
  await store.add(
    ids.map((id: string, i: number) => ({
      id,
      text: texts[i],
      metadata: metadata[i],
      vector: vectors.subarray(i * dimension, (i + 1) * dimension),
    })),
    options,
  );
  return store;
}
