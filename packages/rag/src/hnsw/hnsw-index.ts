// The public HNSW index: ids, metadata, filters, removal and files around the graph in graph.ts.
import type { SearchResult } from '../bm25/bm25-index.js';
import { RagError } from '../errors.js';
import { readIndexFile, readFloat32, readInt32, writeIndexFile } from '../file.js';
import { matchesFilter, validateFilter } from '../filter.js';
import { Pacer, type LongOperationOptions } from '../progress.js';
import type { Metadata } from '../splitters/chunk.js';
import {
  type Metric,
  scoreFromDistance,
  validateVectorOptions,
  type VectorLike,
  writeVector,
} from '../vector/metric.js';
import type { VectorIndex, VectorItem, VectorSearchOptions } from '../vector/vector-index.js';
import { HnswGraph } from './graph.js';

/** Options of {@link createHnswIndex}. */
export interface HnswIndexOptions {
  /** Vector length. */
  dimension: number;
  /** How vectors are compared. Default `cosine`. */
  metric?: Metric;
  /** Neighbours per node above level 0 (2M on level 0). Default 16: the paper's and hnswlib's usual choice. */
  m?: number;
  /** Candidate list size while building; higher builds slower and finds better neighbours. Default 200 (hnswlib's default). */
  efConstruction?: number;
  /** Default candidate list size while searching (at least k is used). Default 64. */
  efSearch?: number;
  /** Seed of the level generator, so that a build is reproducible. Default 1. */
  seed?: number;
}

/** An HNSW index; {@link VectorIndex} plus the graph's settings. */
export interface HnswIndex extends VectorIndex {
  /** The settings in force, defaults filled. */
  readonly settings: Readonly<Required<HnswIndexOptions>>;
}

const KIND = 'hnsw';
const VERSION = 1;

function resolve(options: HnswIndexOptions): Required<HnswIndexOptions> {
  const settings = {
    metric: 'cosine' as Metric,
    m: 16,
    efConstruction: 200,
    efSearch: 64,
    seed: 1,
    ...options,
  };
  validateVectorOptions('createHnswIndex', settings.dimension, settings.metric);
  for (const [name, min, max] of [
    ['m', 2, 1024],
    ['efConstruction', 1, 1e6],
    ['efSearch', 1, 1e6],
  ] as const) {
    const value = settings[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RagError(
        'invalid_config',
        `createHnswIndex: ${name} is ${value}, expected an integer in [${min}, ${max}]`,
      );
    }
  }
  return settings;
}

/**
 * Creates an HNSW (hierarchical navigable small world) index for approximate nearest-neighbour
 * search, after Malkov & Yashunin (2018).
 *
 * @example
 * ```ts
 * const index = createHnswIndex({ dimension: 3, metric: 'cosine', m: 16, efConstruction: 200 });
 * await index.add([{ id: 'a', vector: [1, 0, 0] }, { id: 'b', vector: [0, 1, 0] }]);
 * await index.search([0.9, 0.1, 0], { k: 1, efSearch: 64 }); // [ { id: 'a', score: 0.99... } ]
 * ```
 */
export function createHnswIndex(options: HnswIndexOptions): HnswIndex {
  return new HnswIndexImpl(resolve(options));
}

class HnswIndexImpl implements HnswIndex {
  readonly graph: HnswGraph;
  private ids: string[] = [];
  private metadata: (Metadata | undefined)[] = [];
  private readonly nodeOf = new Map<string, number>();

  constructor(readonly settings: Required<HnswIndexOptions>) {
    // cosine (on unit vectors) and dot both rank by -(a . b)
    this.graph = new HnswGraph(settings, settings.metric === 'l2' ? 'l2' : 'negdot');
  }

  get dimension(): number {
    return this.settings.dimension;
  }

  get metric(): Metric {
    return this.settings.metric;
  }

  get size(): number {
    return this.nodeOf.size;
  }

  async add(items: VectorItem[], options: LongOperationOptions = {}): Promise<void> {
    const pacer = new Pacer('hnsw add', items.length, options);
    for (let i = 0; i < items.length; i++) {
      this.addOne(items[i]);
      await pacer.tick(i + 1);
    }
    pacer.finish();
  }

  /** Inserts one item; runs to the end without yielding, so concurrent calls never see half a node. */
  private addOne(item: VectorItem): void {
    if (typeof item?.id !== 'string')
      throw new RagError(
        'invalid_data',
        `hnsw add: item id is ${JSON.stringify(item?.id)}, expected a string`,
      );
    const graph = this.graph;
    const node = graph.count;
    graph.reserve(node + 1);
    // write (and check) the vector before touching anything else
    writeVector(
      `hnsw add "${item.id}"`,
      item.vector,
      this.dimension,
      this.metric,
      graph.f32,
      graph.floatOffset(node),
    );
    const previous = this.nodeOf.get(item.id);
    if (previous !== undefined) graph.deleted[previous] = 1;
    graph.count = node + 1;
    this.ids[node] = item.id;
    this.metadata[node] = item.metadata;
    graph.insert(node);
    this.nodeOf.set(item.id, node);
  }

  async remove(id: string): Promise<boolean> {
    const node = this.nodeOf.get(id);
    if (node === undefined) return false;
    this.graph.deleted[node] = 1;
    this.nodeOf.delete(id);
    return true;
  }

  async search(vector: VectorLike, options: VectorSearchOptions = {}): Promise<SearchResult[]> {
    const k = options.k ?? 10;
    const efSearch = options.efSearch ?? this.settings.efSearch;
    if (!Number.isInteger(k) || k < 0)
      throw new RagError('invalid_config', `hnsw search: k is ${k}, expected an integer >= 0`);
    if (!Number.isInteger(efSearch) || efSearch < 1)
      throw new RagError(
        'invalid_config',
        `hnsw search: efSearch is ${efSearch}, expected an integer >= 1`,
      );
    validateFilter(options.filter);
    // the query goes to the graph's query slot, float 0 of its memory
    writeVector('hnsw search', vector, this.dimension, this.metric, this.graph.f32, 0);
    if (this.nodeOf.size === 0 || k === 0) return [];
    const { graph, ids, metadata } = this;
    const deleted = graph.deleted;
    const filter = options.filter;
    const hasDeleted = this.nodeOf.size !== graph.count;
    const allowed =
      filter !== undefined
        ? (node: number) =>
            deleted[node] === 0 && matchesFilter(filter, ids[node], metadata[node] ?? {})
        : hasDeleted
          ? (node: number) => deleted[node] === 0
          : null;
    graph.search(Math.max(efSearch, k), allowed);
    const results = graph.results;
    while (results.size > k) results.pop();
    const out: SearchResult[] = new Array(results.size);
    for (let i = results.size - 1; i >= 0; i--) {
      out[i] = {
        id: ids[results.topId()],
        score: scoreFromDistance(this.metric, -results.topKey()),
      };
      results.pop();
    }
    return out;
  }

  getVector(id: string): Float32Array | undefined {
    const node = this.nodeOf.get(id);
    if (node === undefined) return undefined;
    const at = this.graph.floatOffset(node);
    return this.graph.f32.slice(at, at + this.dimension);
  }

  async save(path: string): Promise<void> {
    // everything is copied synchronously here, so adds that run while the file is written
    // do not end up half in it
    const graph = this.graph;
    const count = graph.count;
    const upperLengths = new Int32Array(count);
    let upperTotal = 0;
    for (let n = 0; n < count; n++) {
      upperLengths[n] = graph.upper[n]?.length ?? 0;
      upperTotal += upperLengths[n];
    }
    const upper = new Int32Array(upperTotal);
    for (let n = 0, at = 0; n < count; n++) {
      if (upperLengths[n] > 0) upper.set(graph.upper[n]!, at);
      at += upperLengths[n];
    }
    const items = new TextEncoder().encode(
      JSON.stringify({ ids: this.ids.slice(0, count), metadata: this.metadata.slice(0, count) }),
    );
    const parts = [
      graph.f32.slice(graph.floatOffset(0), graph.floatOffset(count)),
      graph.level0.slice(0, count * (graph.maxM0 + 1)),
      upperLengths,
      upper,
      graph.levels.slice(0, count),
      graph.deleted.slice(0, count),
      items,
    ];
    await writeIndexFile(
      path,
      KIND,
      VERSION,
      {
        settings: this.settings,
        count,
        entryPoint: graph.entryPoint,
        maxLevel: graph.maxLevel,
        upperTotal,
        itemsBytes: items.length,
      },
      parts,
    );
  }

  /** Restores the state written by `save`. */
  restore(header: SavedHeader, payload: Uint8Array): void {
    const graph = this.graph;
    const { count, upperTotal } = header;
    graph.reserve(Math.max(count, 1));
    let at = 0;
    const take = (bytes: number) => {
      const start = at;
      at += bytes;
      if (at > payload.length)
        throw new RagError(
          'corrupt_file',
          `hnsw file: payload ends at byte ${payload.length}, expected at least ${at}`,
        );
      return start;
    };
    graph.f32.set(
      readFloat32(payload, take(count * this.dimension * 4), count * this.dimension),
      graph.floatOffset(0),
    );
    const stride = graph.maxM0 + 1;
    graph.level0.set(readInt32(payload, take(count * stride * 4), count * stride));
    const upperLengths = readInt32(payload, take(count * 4), count);
    const upper = readInt32(payload, take(upperTotal * 4), upperTotal);
    graph.levels.set(payload.subarray(take(count), at));
    graph.deleted.set(payload.subarray(take(count), at));
    const items = JSON.parse(
      new TextDecoder().decode(payload.subarray(take(header.itemsBytes), at)),
    );
    for (let n = 0, offset = 0; n < count; n++) {
      graph.upper[n] = upperLengths[n] > 0 ? upper.slice(offset, offset + upperLengths[n]) : null;
      offset += upperLengths[n];
    }
    graph.count = count;
    graph.entryPoint = header.entryPoint;
    graph.maxLevel = header.maxLevel;
    this.ids = items.ids;
    this.metadata = items.metadata.map((m: Metadata | null) => m ?? undefined);
    for (let n = 0; n < count; n++) if (graph.deleted[n] === 0) this.nodeOf.set(this.ids[n], n);
  }
}

interface SavedHeader {
  settings: Required<HnswIndexOptions>;
  count: number;
  entryPoint: number;
  maxLevel: number;
  upperTotal: number;
  itemsBytes: number;
}

/**
 * Loads an HNSW index saved with `index.save(path)`. A damaged file throws
 * `RagError('corrupt_file')` naming it.
 */
export async function loadHnswIndex(path: string): Promise<HnswIndex> {
  const { header, payload } = await readIndexFile<SavedHeader>(path, KIND, VERSION);
  const index = new HnswIndexImpl(resolve(header.settings));
  index.restore(header, payload);
  return index;
}
