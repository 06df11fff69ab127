import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHnswIndex, loadHnswIndex } from '../hnsw/hnsw-index.js';
import { createFlatIndex, loadFlatIndex } from './flat-index.js';
import { clusteredVectors } from './testing.js';

// plain reference: score every vector, sort
function bruteForce(
  vectors: number[][],
  query: number[],
  metric: 'cosine' | 'dot' | 'l2',
  k: number,
) {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const scored = vectors.map((v, i) => {
    const dot = v.reduce((s, x, j) => s + x * query[j], 0);
    const score =
      metric === 'dot'
        ? dot
        : metric === 'cosine'
          ? dot / (norm(v) * norm(query))
          : -Math.sqrt(v.reduce((s, x, j) => s + (x - query[j]) ** 2, 0));
    return { id: `v${i}`, score };
  });
  return scored.sort((a, b) => b.score - a.score).slice(0, k);
}

describe('createFlatIndex', () => {
  it('finds the exact neighbours with cosine, dot and L2 scores', async () => {
    const vectors = Array.from({ length: 200 }, (_, i) =>
      Array.from({ length: 8 }, (_, j) => Math.sin(i * 7 + j * 3) * (1 + (i % 5))),
    );
    const query = [0.3, -1, 2, 0.5, 0, 1, -0.2, 0.7];
    for (const metric of ['cosine', 'dot', 'l2'] as const) {
      const index = createFlatIndex({ dimension: 8, metric });
      await index.add(vectors.map((vector, i) => ({ id: `v${i}`, vector })));
      const got = await index.search(query, { k: 5 });
      const want = bruteForce(vectors, query, metric, 5);
      expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
      for (const [i, r] of got.entries()) expect(r.score).toBeCloseTo(want[i].score, 4);
    }
  });

  it('names both dimensions on a mismatch; an empty index gives []', async () => {
    const index = createFlatIndex({ dimension: 3 });
    expect(await index.search([1, 0, 0])).toEqual([]);
    await expect(index.add([{ id: 'a', vector: [1, 2] }])).rejects.toThrow(
      'flat add "a": vector has dimension 2, the index has dimension 3',
    );
    await expect(index.search([1, 2, 3, 4])).rejects.toMatchObject({ code: 'dimension_mismatch' });
    // the shared codes: a bad vector is invalid_data, a bad option invalid_config
    await expect(index.add([{ id: 'n', vector: [Number.NaN, 0, 0] }])).rejects.toMatchObject({
      name: 'RagError',
      code: 'invalid_data',
    });
    expect(() => createFlatIndex({ dimension: 0 })).toThrow(
      expect.objectContaining({ name: 'RagError', code: 'invalid_config' }),
    );
  });

  it('removes, filters, saves and loads', async () => {
    const index = createFlatIndex({ dimension: 2, metric: 'l2' });
    await index.add([
      { id: 'a', vector: [0, 0], metadata: { lang: 'en' } },
      { id: 'b', vector: [1, 0], metadata: { lang: 'fr' } },
      { id: 'c', vector: [2, 0], metadata: { lang: 'en' } },
    ]);
    expect(
      (await index.search([0.9, 0], { k: 2, filter: { lang: 'en' } })).map((r) => r.id),
    ).toEqual(['a', 'c']);
    expect(await index.remove('a')).toBe(true);
    expect((await index.search([0, 0], { k: 3 })).map((r) => r.id)).toEqual(['b', 'c']);
    const path = join(mkdtempSync(join(tmpdir(), 'flat-')), 'x.flat');
    await index.save(path);
    const loaded = await loadFlatIndex(path);
    expect(await loaded.search([1.6, 0], { k: 1, filter: { lang: 'en' } })).toEqual([
      { id: 'c', score: expect.closeTo(-0.4, 5) },
    ]);
    expect(loaded.size).toBe(2);
  });
});

describe('createHnswIndex', { timeout: 60_000 }, () => {
  const vectors = clusteredVectors(4000, 32, { clusters: 40, seed: 7 });
  const queries = clusteredVectors(100, 32, { clusters: 40, seed: 7 + 1 });

  async function recallAt10(
    hnsw: Awaited<ReturnType<typeof createHnswIndex>>,
    flat: Awaited<ReturnType<typeof createFlatIndex>>,
    efSearch: number,
  ) {
    let hits = 0;
    for (const q of queries) {
      const truth = new Set((await flat.search(q, { k: 10 })).map((r) => r.id));
      for (const r of await hnsw.search(q, { k: 10, efSearch })) if (truth.has(r.id)) hits++;
    }
    return hits / (queries.length * 10);
  }

  it('reaches high recall@10 against exact search, rising with efSearch', async () => {
    const items = vectors.map((vector, i) => ({ id: `n${i}`, vector }));
    const hnsw = createHnswIndex({ dimension: 32, metric: 'cosine', m: 12, efConstruction: 100 });
    const flat = createFlatIndex({ dimension: 32, metric: 'cosine' });
    await hnsw.add(items);
    await flat.add(items);
    const low = await recallAt10(hnsw, flat, 10);
    const high = await recallAt10(hnsw, flat, 100);
    expect(high).toBeGreaterThanOrEqual(0.95); // hnswlib-node gets 0.97 on this data with these settings
    expect(high).toBeGreaterThanOrEqual(low);
    // scores are cosine similarities, equal to the exact ones for the same ids
    const [best] = await hnsw.search(queries[0], { k: 1, efSearch: 100 });
    const [exact] = await flat.search(queries[0], { k: 1 });
    expect(best.id).toBe(exact.id);
    expect(best.score).toBeCloseTo(exact.score, 5); // float32 SIMD sums vs float64 JS sums
    // graph invariants: no list over its limit, no self-loops, no ids out of range
    const graph = (hnsw as unknown as { graph: import('../hnsw/graph.js').HnswGraph }).graph;
    for (let n = 0; n < graph.count; n++) {
      for (let l = 0; l <= graph.levels[n]; l++) {
        const list = graph.neighbours(n, l);
        expect(list.length).toBeLessThanOrEqual(l === 0 ? 24 : 12);
        for (const other of list) {
          expect(other).not.toBe(n);
          expect(other >= 0 && other < graph.count && graph.levels[other] >= l).toBe(true);
        }
      }
    }
  });

  it('works for dot and L2 too', async () => {
    for (const metric of ['dot', 'l2'] as const) {
      const items = vectors
        .slice(0, 1500)
        .map((v, i) => ({ id: `n${i}`, vector: Array.from(v, (x) => x * (1 + (i % 3))) }));
      const hnsw = createHnswIndex({ dimension: 32, metric, m: 8, efConstruction: 64 });
      const flat = createFlatIndex({ dimension: 32, metric });
      await hnsw.add(items);
      await flat.add(items);
      let hits = 0;
      for (const q of queries.slice(0, 30)) {
        const truth = new Set((await flat.search(q, { k: 10 })).map((r) => r.id));
        for (const r of await hnsw.search(q, { k: 10, efSearch: 128 })) if (truth.has(r.id)) hits++;
      }
      expect(hits / 300).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('removes, replaces, filters; empty gives []; mismatch names both dimensions', async () => {
    const index = createHnswIndex({ dimension: 32, m: 8 });
    expect(await index.search(queries[0])).toEqual([]);
    await expect(index.add([{ id: 'x', vector: new Float32Array(31) }])).rejects.toThrow(
      'hnsw add "x": vector has dimension 31, the index has dimension 32',
    );
    await index.add(
      vectors
        .slice(0, 500)
        .map((vector, i) => ({ id: `n${i}`, vector, metadata: { even: i % 2 === 0 } })),
    );
    const [top] = await index.search(vectors[10], { k: 1 });
    expect(top.id).toBe('n10');
    await index.remove('n10');
    expect((await index.search(vectors[10], { k: 5 })).map((r) => r.id)).not.toContain('n10');
    expect(index.size).toBe(499);
    const odd = await index.search(vectors[4], { k: 10, filter: { even: false } });
    expect(odd).toHaveLength(10);
    expect(odd.every((r) => Number(r.id.slice(1)) % 2 === 1)).toBe(true);
    // replacing n4's vector moves it
    await index.add([{ id: 'n4', vector: vectors[3] }]);
    expect(index.size).toBe(499);
    expect((await index.search(vectors[3], { k: 2 })).map((r) => r.id).sort()).toEqual([
      'n3',
      'n4',
    ]);
  });

  it('saves and loads an identical index; a corrupt file is named', async () => {
    const index = createHnswIndex({ dimension: 32, m: 8, efConstruction: 50 });
    await index.add(
      vectors
        .slice(0, 800)
        .map((vector, i) => ({ id: `n${i}`, vector, metadata: i % 2 ? { odd: true } : undefined })),
    );
    await index.remove('n5');
    const path = join(mkdtempSync(join(tmpdir(), 'hnsw-')), 'x.hnsw');
    await index.save(path);
    const loaded = await loadHnswIndex(path);
    expect(loaded.size).toBe(799);
    expect(loaded.settings).toEqual(index.settings);
    for (const q of queries.slice(0, 20)) {
      expect(await loaded.search(q, { k: 10 })).toEqual(await index.search(q, { k: 10 }));
      expect(await loaded.search(q, { k: 3, filter: { odd: true } })).toEqual(
        await index.search(q, { k: 3, filter: { odd: true } }),
      );
    }
    const bytes = readFileSync(path);
    bytes[100] ^= 1;
    writeFileSync(path, bytes);
    await expect(loadHnswIndex(path)).rejects.toThrow(
      `${path}: corrupt hnsw file (SHA-256 checksum mismatch)`,
    );
    writeFileSync(path, bytes.subarray(0, 50));
    await expect(loadHnswIndex(path)).rejects.toMatchObject({ code: 'corrupt_file' });
    // a whole file of another kind is corrupt_file too, named in the message
    await index.save(path);
    await expect(loadFlatIndex(path)).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(/holds a "hnsw" index, expected "flat"/),
    });
  });

  it('survives concurrent adds and searches, reports progress and aborts', async () => {
    const index = createHnswIndex({ dimension: 32, m: 8, efConstruction: 40 });
    const batches = [0, 1, 2, 3].map((b) =>
      vectors.slice(b * 500, (b + 1) * 500).map((vector, i) => ({ id: `n${b * 500 + i}`, vector })),
    );
    const progress: number[] = [];
    const searches: Promise<unknown>[] = [];
    const adds = batches.map((batch, b) =>
      index.add(batch, b === 0 ? { onProgress: (p) => progress.push(p.done) } : {}),
    );
    for (let i = 0; i < 50; i++) searches.push(index.search(queries[i], { k: 5 }));
    await Promise.all([...adds, ...searches]);
    expect(index.size).toBe(2000);
    expect(progress.at(-1)).toBe(500);
    for (let i = 0; i < 2000; i += 97)
      expect((await index.search(vectors[i], { k: 1 }))[0].id).toBe(`n${i}`);
    const controller = new AbortController();
    const aborted = index.add(
      vectors.slice(2000, 4000).map((vector, i) => ({ id: `m${i}`, vector })),
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    await expect(aborted).rejects.toMatchObject({ code: 'aborted' });
    expect(index.size).toBeLessThan(4000);
  });
});

describe('SIMD kernels', () => {
  it('match plain JS dot and squared L2 for every length remainder', async () => {
    const { createSimdKernels } = await import('../hnsw/simd.js');
    const { dot, squaredL2 } = await import('./metric.js');
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernels = createSimdKernels(memory);
    expect(kernels, 'Node 20 has WebAssembly SIMD').not.toBeNull();
    const f32 = new Float32Array(memory.buffer);
    for (const n of [1, 3, 4, 7, 15, 16, 17, 33, 128, 131]) {
      for (let i = 0; i < n; i++) {
        f32[i] = Math.sin(i + 1);
        f32[256 + i] = Math.cos(2 * i);
      }
      expect(kernels!.negdot(0, 1024, n)).toBeCloseTo(-dot(f32, 0, f32, 256, n), 5);
      expect(kernels!.l2(0, 1024, n)).toBeCloseTo(squaredL2(f32, 0, f32, 256, n), 5);
    }
  });
});
