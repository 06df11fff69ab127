// The HNSW graph of Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search
// using Hierarchical Navigable Small World graphs" (TPAMI 2018). Algorithm numbers below are the
// paper's. Memory layout, chosen so that a search allocates nothing:
//
//   memory    WebAssembly.Memory: the query at byte 0, node n's vector at base + n * rowBytes,
//             read by the SIMD kernels of simd.ts (or plain JS where SIMD is missing)
//   level0    Int32Array (capacity * (maxM0 + 1))       [count, neighbour ids...] per node
//   upper[n]  Int32Array (levels[n] * (maxM + 1)) | null  levels 1..L of node n, same layout
//   visited   Uint32Array (capacity)                     visited[n] === generation: seen in this search
//
// maxM0 = 2 * M on level 0 and maxM = M above it (the paper's recommendation); a node's level is
// floor(-ln(U) * mL) with mL = 1 / ln(M). Deleted nodes stay in the graph as routes (as in hnswlib's
// markDelete) and are skipped in results.
import { dot, squaredL2 } from '../vector/metric.js';
import { IdHeap } from './heap.js';
import { createSimdKernels } from './simd.js';

const PAGE = 65536;

/** Build settings of a graph. */
export interface GraphSettings {
  dimension: number;
  m: number;
  efConstruction: number;
  seed: number;
}

export class HnswGraph {
  readonly dimension: number;
  /** Distance between the vectors at two byte offsets: -(a . b) or |a - b|^2. */
  readonly distance: (a: number, b: number, n: number) => number;
  readonly memory: WebAssembly.Memory;
  /** A view over all of `memory`; replaced when memory grows. */
  f32: Float32Array;
  /** Byte offset of node 0's vector (the query slot comes first). */
  readonly base: number;
  readonly rowBytes: number;
  readonly simd: boolean;
  readonly m: number;
  readonly maxM0: number;
  readonly efConstruction: number;
  readonly levelMultiplier: number;
  count = 0;
  capacity: number;
  levels: Uint8Array;
  deleted: Uint8Array;
  level0: Int32Array;
  upper: (Int32Array | null)[] = [];
  entryPoint = -1;
  maxLevel = -1;
  private visited: Uint32Array;
  private generation = 0;
  private rngState: number;
  // scratch, reused by every search and insert
  private readonly candidates = new IdHeap(256);
  readonly results = new IdHeap(256);
  private selectIds = new Int32Array(256);
  private selectDistances = new Float64Array(256);
  private readonly chosen: Int32Array;

  constructor(settings: GraphSettings, kind: 'negdot' | 'l2', capacity = 1024) {
    this.dimension = settings.dimension;
    this.m = settings.m;
    this.maxM0 = 2 * settings.m;
    this.efConstruction = settings.efConstruction;
    this.levelMultiplier = 1 / Math.log(settings.m);
    this.rngState = settings.seed >>> 0 || 1;
    this.capacity = capacity;
    this.rowBytes = this.dimension * 4;
    this.base = Math.ceil(this.rowBytes / 16) * 16;
    this.memory = new WebAssembly.Memory({
      initial: Math.ceil((this.base + capacity * this.rowBytes) / PAGE),
    });
    this.f32 = new Float32Array(this.memory.buffer);
    const kernels = createSimdKernels(this.memory);
    this.simd = kernels !== null;
    if (kernels) this.distance = kernels[kind];
    else if (kind === 'l2')
      this.distance = (a, b, n) => squaredL2(this.f32, a >> 2, this.f32, b >> 2, n);
    else this.distance = (a, b, n) => -dot(this.f32, a >> 2, this.f32, b >> 2, n);
    this.levels = new Uint8Array(capacity);
    this.deleted = new Uint8Array(capacity);
    this.level0 = new Int32Array(capacity * (this.maxM0 + 1));
    this.visited = new Uint32Array(capacity);
    this.chosen = new Int32Array(this.maxM0 + 1);
  }

  /** Makes room for one more node, doubling the arrays when full. */
  reserve(count: number): void {
    if (count <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < count) capacity *= 2;
    const grow = <T extends Float32Array | Uint8Array | Int32Array | Uint32Array>(
      old: T,
      make: (n: number) => T,
      per: number,
    ): T => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    const bytes = this.base + capacity * this.rowBytes;
    if (bytes > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((bytes - this.memory.buffer.byteLength) / PAGE));
      this.f32 = new Float32Array(this.memory.buffer);
    }
    this.levels = grow(this.levels, (n) => new Uint8Array(n), 1);
    this.deleted = grow(this.deleted, (n) => new Uint8Array(n), 1);
    this.level0 = grow(this.level0, (n) => new Int32Array(n), this.maxM0 + 1);
    this.visited = new Uint32Array(capacity);
    this.generation = 0;
    this.capacity = capacity;
  }

  /** Offset, in floats of `f32`, of node `node`'s vector. */
  floatOffset(node: number): number {
    return (this.base + node * this.rowBytes) >> 2;
  }

  /** A uniform number in (0, 1): xorshift32, seeded, so builds are reproducible. */
  private random(): number {
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return (this.rngState + 1) / 4294967297;
  }

  /** The neighbour list of `node` on `level`: the array and the offset of its count slot. */
  private listOf(node: number, level: number): [Int32Array, number] {
    if (level === 0) return [this.level0, node * (this.maxM0 + 1)];
    return [this.upper[node]!, (level - 1) * (this.m + 1)];
  }

  private nextGeneration(): number {
    if (++this.generation === 0xffffffff) {
      this.visited.fill(0);
      this.generation = 1;
    }
    return this.generation;
  }

  /** Greedy walk on one level from `start` towards the query (the paper's search with ef = 1). */
  greedyClosest(query: number, start: number, level: number): number {
    const { base, rowBytes, dimension, distance } = this;
    let current = start;
    let currentDistance = distance(base + current * rowBytes, query, dimension);
    for (let changed = true; changed; ) {
      changed = false;
      const list = level === 0 ? this.level0 : this.upper[current]!;
      const at = level === 0 ? current * (this.maxM0 + 1) : (level - 1) * (this.m + 1);
      const size = list[at];
      for (let i = 1; i <= size; i++) {
        const neighbour = list[at + i];
        const d = distance(base + neighbour * rowBytes, query, dimension);
        if (d < currentDistance) {
          currentDistance = d;
          current = neighbour;
          changed = true;
        }
      }
    }
    return current;
  }

  /**
   * Algorithm 2, SEARCH-LAYER: best-first search from `entry` on `level` keeping the `ef` nearest
   * in `this.results`, a max-heap with negated distances (its top is the farthest kept).
   * `allowed` (for searches: not deleted, passes the filter) gates what enters the results; every
   * node still serves as a route, as in hnswlib's filtered search.
   */
  searchLayer(
    query: number,
    entry: number,
    ef: number,
    level: number,
    allowed: ((node: number) => boolean) | null,
  ): void {
    const { base, rowBytes, dimension, distance, candidates, results, visited } = this;
    const generation = this.nextGeneration();
    candidates.clear();
    results.clear();
    const entryDistance = distance(base + entry * rowBytes, query, dimension);
    visited[entry] = generation;
    candidates.push(entry, entryDistance);
    if (allowed === null || allowed(entry)) results.push(entry, -entryDistance);
    let bound = results.size > 0 ? -results.topKey() : Number.POSITIVE_INFINITY;
    while (candidates.size > 0) {
      const nearestDistance = candidates.topKey();
      if (nearestDistance > bound && results.size >= ef) break;
      const node = candidates.topId();
      candidates.pop();
      const list = level === 0 ? this.level0 : this.upper[node]!;
      const at = level === 0 ? node * (this.maxM0 + 1) : (level - 1) * (this.m + 1);
      const size = list[at];
      for (let i = 1; i <= size; i++) {
        const neighbour = list[at + i];
        if (visited[neighbour] === generation) continue;
        visited[neighbour] = generation;
        const d = distance(base + neighbour * rowBytes, query, dimension);
        if (results.size < ef || d < bound) {
          candidates.push(neighbour, d);
          if (allowed === null || allowed(neighbour)) {
            results.push(neighbour, -d);
            if (results.size > ef) results.pop();
            bound = -results.topKey();
          }
        }
      }
    }
  }

  /**
   * Drains `this.results` into the scratch arrays, nearest first; returns how many.
   */
  private drainResults(): number {
    const results = this.results;
    const count = results.size;
    if (this.selectIds.length < count) {
      this.selectIds = new Int32Array(count * 2);
      this.selectDistances = new Float64Array(count * 2);
    }
    for (let i = count - 1; i >= 0; i--) {
      this.selectIds[i] = results.topId();
      this.selectDistances[i] = -results.topKey();
      results.pop();
    }
    return count;
  }

  /**
   * Algorithm 4, SELECT-NEIGHBORS-HEURISTIC (without extending candidates, pruned ones dropped):
   * walk candidates nearest first and keep one only if it is closer to the base than to every
   * neighbour kept so far, up to `limit`. Candidates come sorted in the scratch arrays; the kept
   * ids go to `this.chosen`. Returns how many were kept.
   */
  private selectHeuristic(count: number, limit: number): number {
    const { base, rowBytes, dimension, distance, selectIds, selectDistances, chosen } = this;
    let kept = 0;
    for (let i = 0; i < count && kept < limit; i++) {
      const candidate = selectIds[i];
      const toBase = selectDistances[i];
      let good = true;
      for (let j = 0; j < kept; j++) {
        if (
          distance(base + candidate * rowBytes, base + chosen[j] * rowBytes, dimension) < toBase
        ) {
          good = false;
          break;
        }
      }
      if (good) chosen[kept++] = candidate;
    }
    return kept;
  }

  /** Algorithm 1, INSERT: the vector must already sit at `node * dimension`. */
  insert(node: number): void {
    const level = Math.min(255, Math.floor(-Math.log(this.random()) * this.levelMultiplier));
    this.levels[node] = level;
    this.deleted[node] = 0;
    this.level0[node * (this.maxM0 + 1)] = 0;
    this.upper[node] = level > 0 ? new Int32Array(level * (this.m + 1)) : null;
    if (this.entryPoint === -1) {
      this.entryPoint = node;
      this.maxLevel = level;
      return;
    }
    const offset = this.base + node * this.rowBytes;
    let current = this.entryPoint;
    for (let l = this.maxLevel; l > level; l--) current = this.greedyClosest(offset, current, l);
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      this.searchLayer(offset, current, this.efConstruction, l, null);
      const count = this.drainResults();
      current = this.selectIds[0]; // nearest found: the entry for the next level down
      const kept = this.selectHeuristic(count, this.m);
      const [list, at] = this.listOf(node, l);
      list[at] = kept;
      for (let i = 0; i < kept; i++) list[at + 1 + i] = this.chosen[i];
      for (let i = 0; i < kept; i++) this.connect(list[at + 1 + i], node, l);
    }
    if (level > this.maxLevel) {
      this.entryPoint = node;
      this.maxLevel = level;
    }
  }

  /** Adds `node` to `neighbour`'s list on `level`, shrinking it with the heuristic when full. */
  private connect(neighbour: number, node: number, level: number): void {
    const limit = level === 0 ? this.maxM0 : this.m;
    const [list, at] = this.listOf(neighbour, level);
    const size = list[at];
    if (size < limit) {
      list[at + 1 + size] = node;
      list[at] = size + 1;
      return;
    }
    // gather the current neighbours and the new node, sorted by distance to `neighbour`
    const { base, rowBytes, dimension, distance } = this;
    const from = base + neighbour * rowBytes;
    const heap = this.results;
    heap.clear();
    heap.push(node, -distance(base + node * rowBytes, from, dimension));
    for (let i = 1; i <= size; i++) {
      const other = list[at + i];
      heap.push(other, -distance(base + other * rowBytes, from, dimension));
    }
    const count = this.drainResults();
    const kept = this.selectHeuristic(count, limit);
    list[at] = kept;
    for (let i = 0; i < kept; i++) list[at + 1 + i] = this.chosen[i];
  }

  /**
   * Algorithm 5, K-NN-SEARCH for the query written at float 0 of `f32`: greedy descent to
   * level 1, then SEARCH-LAYER on level 0 with `ef`. Leaves up to `ef` results in `this.results`
   * (negated distances).
   */
  search(ef: number, allowed: ((node: number) => boolean) | null): void {
    this.results.clear();
    if (this.entryPoint === -1) return;
    let current = this.entryPoint;
    for (let l = this.maxLevel; l > 0; l--) current = this.greedyClosest(0, current, l);
    this.searchLayer(0, current, ef, 0, allowed);
  }

  /** The neighbour ids of `node` on `level` (a copy; for tests and checks). */
  neighbours(node: number, level: number): number[] {
    const [list, at] = this.listOf(node, level);
    return Array.from(list.subarray(at + 1, at + 1 + list[at]));
  }
}
