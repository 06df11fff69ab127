// Exact nearest-neighbour search: every query compares against every stored vector. The reference
// that HNSW's recall is measured against, and the right index below ~10,000 vectors.
import type { SearchResult } from '../bm25/bm25-index.js';
import { RagError } from '../errors.js';
import { matchesFilter, validateFilter } from '../filter.js';
import { readIndexFile, writeIndexFile, readFloat32 } from '../file.js';
import { IdHeap } from '../hnsw/heap.js';
import { Pacer, type LongOperationOptions } from '../progress.js';
import type { Metadata } from '../splitters/chunk.js';
import {
  type DistanceFunction,
  distanceFor,
  type Metric,
  scoreFromDistance,
  validateVectorOptions,
  type VectorLike,
  writeVector,
} from './metric.js';
import type { VectorIndex, VectorItem, VectorSearchOptions } from './vector-index.js';

/** Options of {@link createFlatIndex}. */
export interface FlatIndexOptions {
  /** Vector length. */
  dimension: number;
  /** How vectors are compared. Default `cosine`. */
  metric?: Metric;
}

const KIND = 'flat';
const VERSION = 1;

/**
 * Creates an exact (brute-force) vector index.
 *
 * @example
 * ```ts
 * const index = createFlatIndex({ dimension: 2, metric: 'cosine' });
 * await index.add([{ id: 'x', vector: [1, 0] }, { id: 'y', vector: [0, 1] }]);
 * await index.search([1, 0.1], { k: 1 }); // [ { id: 'x', score: 0.995... } ]
 * ```
 */
export function createFlatIndex(options: FlatIndexOptions): VectorIndex {
  const metric = options.metric ?? 'cosine';
  validateVectorOptions('createFlatIndex', options.dimension, metric);
  return new FlatIndex(options.dimension, metric);
}

class FlatIndex implements VectorIndex {
  private vectors: Float32Array;
  private ids: string[] = [];
  private metadata: Metadata[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly distance: DistanceFunction;
  private readonly query: Float32Array;
  private readonly heap = new IdHeap();

  constructor(
    readonly dimension: number,
    readonly metric: Metric,
  ) {
    this.vectors = new Float32Array(dimension * 16);
    this.distance = distanceFor(metric);
    this.query = new Float32Array(dimension);
  }

  get size(): number {
    return this.ids.length;
  }

  async add(items: VectorItem[], options: LongOperationOptions = {}): Promise<void> {
    const pacer = new Pacer('flat add', items.length, options);
    for (let i = 0; i < items.length; i++) {
      this.addOne(items[i]);
      await pacer.tick(i + 1);
    }
    pacer.finish();
  }

  private addOne(item: VectorItem): void {
    let slot = this.slotOf.get(item.id);
    if (slot === undefined) {
      slot = this.ids.length;
      if ((slot + 1) * this.dimension > this.vectors.length) {
        const grown = new Float32Array(this.vectors.length * 2);
        grown.set(this.vectors);
        this.vectors = grown;
      }
    }
    writeVector(
      `flat add "${item.id}"`,
      item.vector,
      this.dimension,
      this.metric,
      this.vectors,
      slot * this.dimension,
    );
    this.ids[slot] = item.id;
    this.metadata[slot] = item.metadata ?? {};
    this.slotOf.set(item.id, slot);
  }

  async remove(id: string): Promise<boolean> {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    // move the last item into the hole
    const last = this.ids.length - 1;
    if (slot !== last) {
      this.vectors.copyWithin(
        slot * this.dimension,
        last * this.dimension,
        (last + 1) * this.dimension,
      );
      this.ids[slot] = this.ids[last];
      this.metadata[slot] = this.metadata[last];
      this.slotOf.set(this.ids[slot], slot);
    }
    this.ids.pop();
    this.metadata.pop();
    this.slotOf.delete(id);
    return true;
  }

  async search(vector: VectorLike, options: VectorSearchOptions = {}): Promise<SearchResult[]> {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 0)
      throw new RagError('invalid_config', `flat search: k is ${k}, expected an integer >= 0`);
    validateFilter(options.filter);
    writeVector('flat search', vector, this.dimension, this.metric, this.query, 0);
    if (this.ids.length === 0 || k === 0) return [];
    // keep the k nearest in a max-heap (negated keys)
    const heap = this.heap;
    heap.clear();
    const { dimension, vectors, query, distance } = this;
    for (let slot = 0; slot < this.ids.length; slot++) {
      const d = distance(vectors, slot * dimension, query, 0, dimension);
      if (heap.size === k && -heap.topKey() <= d) continue;
      if (options.filter && !matchesFilter(options.filter, this.ids[slot], this.metadata[slot]))
        continue;
      heap.push(slot, -d);
      if (heap.size > k) heap.pop();
    }
    const results: SearchResult[] = new Array(heap.size);
    for (let i = heap.size - 1; i >= 0; i--) {
      results[i] = {
        id: this.ids[heap.topId()],
        score: scoreFromDistance(this.metric, -heap.topKey()),
      };
      heap.pop();
    }
    return results;
  }

  getVector(id: string): Float32Array | undefined {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return undefined;
    return this.vectors.slice(slot * this.dimension, (slot + 1) * this.dimension);
  }

  async save(path: string): Promise<void> {
    const items = new TextEncoder().encode(
      JSON.stringify({ ids: this.ids, metadata: this.metadata }),
    );
    const vectors = this.vectors.subarray(0, this.ids.length * this.dimension);
    await writeIndexFile(
      path,
      KIND,
      VERSION,
      {
        dimension: this.dimension,
        metric: this.metric,
        count: this.ids.length,
        itemsBytes: items.length,
      },
      [vectors, items],
    );
  }

  /** Restores items read from a file. */
  restore(ids: string[], metadata: Metadata[], vectors: Float32Array): void {
    this.ids = ids;
    this.metadata = metadata;
    this.vectors = vectors.length > 0 ? vectors : new Float32Array(this.dimension * 16);
    for (const [slot, id] of ids.entries()) this.slotOf.set(id, slot);
  }
}

/**
 * Loads a flat index saved with `index.save(path)`; a damaged file throws
 * `RagError('corrupt_file')` naming it.
 */
export async function loadFlatIndex(path: string): Promise<VectorIndex> {
  const { header, payload } = await readIndexFile<{
    dimension: number;
    metric: Metric;
    count: number;
    itemsBytes: number;
  }>(path, KIND, VERSION);
  const index = new FlatIndex(header.dimension, header.metric);
  const vectorBytes = header.count * header.dimension * 4;
  const vectors = readFloat32(payload, 0, header.count * header.dimension);
  const items = JSON.parse(
    new TextDecoder().decode(payload.subarray(vectorBytes, vectorBytes + header.itemsBytes)),
  );
  index.restore(items.ids, items.metadata, vectors);
  return index;
}
