import { describe, expect, it, vi } from 'vitest';
import { createFlatIndex } from '../vector/flat-index.js';
import { clusteredVectors } from '../vector/testing.js';
import type { HnswGraph } from './graph.js';
import { createHnswIndex } from './hnsw-index.js';

// where WebAssembly SIMD is missing the graph computes distances in plain JS: same results
vi.mock('./simd.js', () => ({ createSimdKernels: () => null }));

describe('HNSW without WebAssembly SIMD', () => {
  it('falls back to JS kernels with the same recall', async () => {
    const vectors = clusteredVectors(1500, 20, { clusters: 15, seed: 5 });
    for (const metric of ['cosine', 'l2'] as const) {
      const hnsw = createHnswIndex({ dimension: 20, metric, m: 8, efConstruction: 80 });
      const flat = createFlatIndex({ dimension: 20, metric });
      const items = vectors.map((vector, i) => ({ id: `n${i}`, vector }));
      await hnsw.add(items);
      await flat.add(items);
      expect((hnsw as unknown as { graph: HnswGraph }).graph.simd).toBe(false);
      let hits = 0;
      for (const q of vectors.slice(0, 50)) {
        const truth = new Set((await flat.search(q, { k: 10 })).map((r) => r.id));
        for (const r of await hnsw.search(q, { k: 10, efSearch: 100 })) if (truth.has(r.id)) hits++;
      }
      expect(hits / 500).toBeGreaterThanOrEqual(0.95);
      const [top] = await hnsw.search(vectors[3], { k: 1 });
      expect(top.id).toBe('n3');
      expect(top.score).toBeCloseTo(metric === 'cosine' ? 1 : 0, 6);
    }
  });
});
