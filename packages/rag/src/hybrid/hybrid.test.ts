import { describe, expect, it } from 'vitest';
import { createBm25Index } from '../bm25/bm25-index.js';
import type { Embedder } from '../embedders/embedder.js';
import { createRecursiveCharacterSplitter } from '../splitters/recursive.js';
import { createMemoryStore } from '../stores/memory-store.js';
import { reciprocalRankFusion } from './fusion.js';
import { maximalMarginalRelevance } from './mmr.js';
import { createHybridRetriever } from './retriever.js';

// a deterministic toy embedder: hashed bag of lowercase words, 32 dimensions
export const hashEmbedder: Embedder = {
  dimension: 32,
  embed: async (texts) =>
    texts.map((text) => {
      const v = new Float32Array(32);
      for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
        let h = 0;
        for (const c of word) h = (h * 31 + c.charCodeAt(0)) >>> 0;
        v[h % 32] += 1;
      }
      v[31] += 0.01; // never the zero vector
      return v;
    }),
};

describe('reciprocalRankFusion', () => {
  it('sums weight / (k + rank) over lists', () => {
    const fused = reciprocalRankFusion(
      [
        [
          { id: 'a', score: 10 },
          { id: 'b', score: 7 },
          { id: 'c', score: 1 },
        ],
        [
          { id: 'c', score: 0.9 },
          { id: 'a', score: 0.8 },
        ],
      ],
      { k: 60, weights: [1, 2] },
    );
    expect(fused.map((r) => r.id)).toEqual(['c', 'a', 'b']);
    expect(fused[0].score).toBeCloseTo(1 / 63 + 2 / 61, 15);
    expect(fused[1].score).toBeCloseTo(1 / 61 + 2 / 62, 15);
    expect(fused[2].score).toBeCloseTo(1 / 62, 15);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
  });
});

describe('maximalMarginalRelevance', () => {
  it('prefers a new direction over a near-duplicate', () => {
    const candidates = [
      { id: 'a', vector: [1, 0] },
      { id: 'a-copy', vector: [1, 0.01] },
      { id: 'b', vector: [0.7, 0.7] },
    ];
    const picked = maximalMarginalRelevance([1, 0], candidates, { k: 2, lambda: 0.3 });
    expect(picked.map((r) => r.id)).toEqual(['a', 'b']);
    // second pick: b scores 0.3 * cos(q, b) - 0.7 * cos(b, a) = -0.4 * 0.7071, a-copy about -0.4
    const cosB = 0.7 / Math.hypot(0.7, 0.7);
    expect(picked[1].score).toBeCloseTo(0.3 * cosB - 0.7 * cosB, 12);
    expect(
      maximalMarginalRelevance([1, 0], candidates, { k: 2, lambda: 1 }).map((r) => r.id),
    ).toEqual(['a', 'a-copy']);
    expect(() => maximalMarginalRelevance([1, 0, 0], candidates)).toThrow(
      /has dimension 2, the query has dimension 3/,
    );
  });
});

describe('createHybridRetriever', () => {
  it('fuses BM25 and vector lists and returns passages with offsets', async () => {
    const source =
      'Wings make lift from air flow.\n\nDrag slows the plane down.\n\nFlaps raise lift at low speed.\n\nShock waves form at supersonic speed.';
    const chunks = createRecursiveCharacterSplitter({ chunkSize: 40, chunkOverlap: 0 }).split(
      source,
      { id: 'notes.md' },
    );
    const vectors = await hashEmbedder.embed(chunks.map((c) => c.text));
    const store = createMemoryStore({ dimension: 32 });
    await store.add(
      chunks.map((c, i) => ({
        id: `c${i}`,
        text: c.text,
        vector: vectors[i],
        metadata: { sourceId: c.sourceId, start: c.start, end: c.end },
      })),
    );
    const bm25 = createBm25Index();
    await bm25.add(chunks.map((c, i) => ({ id: `c${i}`, text: c.text })));
    const retrieve = createHybridRetriever({ store, bm25, embedder: hashEmbedder, k: 3 });
    const query = 'what raises lift';
    const passages = await retrieve(query);
    const [queryVector] = await hashEmbedder.embed([query]);
    const expected = reciprocalRankFusion(
      [await bm25.search(query, { k: 50 }), await store.search(queryVector, { k: 50 })],
      { limit: 3 },
    );
    expect(passages.map((p) => [p.id, p.score])).toEqual(expected.map((r) => [r.id, r.score]));
    for (const p of passages) expect(source.slice(p.start, p.end)).toBe(p.text);
    expect(passages[0].sourceId).toBe('notes.md');
    const diverse = await createHybridRetriever({
      store,
      embedder: hashEmbedder,
      k: 2,
      mmrLambda: 0.3,
    })(query);
    expect(diverse).toHaveLength(2);
  });
});
