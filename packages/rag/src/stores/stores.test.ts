import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetadataFilter } from '../filter.js';
import { createFlatIndex } from '../vector/flat-index.js';
import { clusteredVectors } from '../vector/testing.js';
import { createMemoryStore, openMemoryStore } from './memory-store.js';
import { createPgliteStore } from './pglite-store.js';
import { createPostgresStore } from './postgres-store.js';
import type { VectorStore } from './store.js';

const dimension = 16;
const vectors = clusteredVectors(300, dimension, { clusters: 10, seed: 3 });
const records = vectors.map((vector, i) => ({
  id: `r${i}`,
  text: `chunk ${i}`,
  vector,
  metadata: {
    source: `doc${i % 7}.md`,
    year: 2000 + (i % 25),
    draft: i % 3 === 0,
    ...(i % 5 === 0 ? { tag: i % 2 ? 'a' : 'b' } : {}),
  },
}));
const filters: MetadataFilter[] = [
  { source: 'doc3.md' },
  { year: { $gte: 2010, $lt: 2020 } },
  { draft: false, source: { $in: ['doc1.md', 'doc2.md'] } },
  { tag: { $exists: true } },
  { tag: { $ne: 'a' } },
  { source: { $nin: ['doc0.md', 'doc1.md'] }, year: { $lte: 2005 } },
  { tag: { $exists: false }, draft: true },
];

// the SQL store must agree with the exact in-memory search on ids, scores and filters
async function checkAgainstFlat(store: VectorStore) {
  const flat = createFlatIndex({ dimension });
  await flat.add(records);
  for (const [i, filter] of [undefined, ...filters].entries()) {
    const query = vectors[i * 17];
    const want = await flat.search(query, { k: 8, filter });
    const got = await store.search(query, { k: 8, filter, efSearch: 400 });
    expect(
      got.map((r) => r.id),
      JSON.stringify(filter),
    ).toEqual(want.map((r) => r.id));
    for (const [j, hit] of got.entries()) expect(hit.score).toBeCloseTo(want[j].score, 4);
  }
}

describe('PGlite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pglite-'));

  it('inserts, searches, filters, deletes and reopens from disk', async () => {
    const store = await createPgliteStore({ dataDir: dir, dimension });
    expect(await store.search(vectors[0])).toEqual([]);
    await store.add(records.slice(0, 150));
    await store.add(records.slice(150), { onProgress: () => undefined });
    expect(await store.count()).toBe(300);
    await checkAgainstFlat(store);
    const [hit] = await store.search(vectors[42], { k: 1 });
    expect(hit).toMatchObject({ id: 'r42', text: 'chunk 42', metadata: records[42].metadata });
    expect(hit.score).toBeCloseTo(1, 5);
    expect(await store.remove(['r42', 'nope'])).toBe(1);
    expect((await store.search(vectors[42], { k: 1 }))[0].id).not.toBe('r42');
    await store.add([{ id: 'r1', text: 'replaced', vector: vectors[42], metadata: { new: true } }]);
    await expect(store.add([{ id: 'bad', vector: [1, 2] }])).rejects.toThrow(
      'store add "bad": vector has dimension 2, the index has dimension 16',
    );
    await expect(store.search(vectors[0], { filter: () => true })).rejects.toMatchObject({
      code: 'unsupported_filter',
    });
    await store.close();
    await expect(store.count()).rejects.toMatchObject({ code: 'closed' });

    const reopened = await createPgliteStore({ dataDir: dir, dimension });
    expect(await reopened.count()).toBe(299);
    const again = await reopened.search(vectors[42], { k: 1 });
    expect(again[0]).toMatchObject({ id: 'r1', text: 'replaced', metadata: { new: true } });
    const stored = await reopened.get('r7');
    expect(Array.from(stored!.vector)).toEqual(Array.from(vectors[7]));
    await reopened.close();
    await expect(createPgliteStore({ dataDir: dir, dimension: 8 })).rejects.toThrow(
      'table llmkit_chunks holds vectors of dimension 16, the store was opened with dimension 8',
    );
  }, 60_000);

  it('keeps concurrent adds and searches consistent', async () => {
    const store = await createPgliteStore({
      dimension,
      metric: 'l2',
      table: 'concurrent',
      indexing: 'deferred',
    });
    const work: Promise<unknown>[] = [];
    for (let b = 0; b < 6; b++) {
      work.push(store.add(records.slice(b * 50, (b + 1) * 50)));
      work.push(store.search(vectors[b], { k: 3 }));
    }
    await Promise.all(work);
    expect(await store.count()).toBe(300);
    expect((await store.search(vectors[250], { k: 1 }))[0]).toMatchObject({
      id: 'r250',
      score: expect.closeTo(0, 5),
    });
    await store.close();
  }, 60_000);
});

describe('memory store', () => {
  it('agrees with flat search, saves atomically and detects corruption', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'memstore-')), 'notes.store');
    const store = createMemoryStore({
      dimension,
      path,
      index: 'hnsw',
      hnsw: { m: 8, efConstruction: 100 },
    });
    await store.add(records);
    await checkAgainstFlat(store);
    await store.remove('r9');
    await store.save();
    const loaded = await openMemoryStore(path);
    expect(await loaded.count()).toBe(299);
    expect(await loaded.search(vectors[5], { k: 5, filter: { draft: false } })).toEqual(
      await store.search(vectors[5], { k: 5, filter: { draft: false } }),
    );
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(path, bytes);
    await expect(openMemoryStore(path)).rejects.toThrow(
      `${path}: corrupt memory-store file (SHA-256 checksum mismatch)`,
    );
    await expect(store.add([{ id: 'x', vector: [1] }])).rejects.toThrow(
      'vector has dimension 1, the store has dimension 16',
    );
  });
});

describe('Postgres store through node-postgres', () => {
  // a real Postgres wire-protocol server on loopback: PGlite behind @electric-sql/pglite-socket
  it('speaks the same SQL over the wire: insert, search, filter, delete', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const { vector } = await import('@electric-sql/pglite/vector');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const db = await PGlite.create({ extensions: { vector } });
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    try {
      const address = server.getServerConn();
      const store = await createPostgresStore({
        connectionString: `postgres://postgres@${address}/postgres?sslmode=disable`,
        dimension,
        table: 'wire',
      });
      await store.add(records);
      expect(await store.count()).toBe(300);
      await checkAgainstFlat(store);
      expect(await store.remove(['r0', 'r1'])).toBe(2);
      expect((await store.get('r2'))?.text).toBe('chunk 2');
      await store.close();
    } finally {
      await server.stop();
      await db.close();
    }
  }, 60_000);
});

const pgUrl = process.env.LLMKIT_PG_URL;
if (!pgUrl)
  console.warn(
    'skipping Postgres server store tests: set LLMKIT_PG_URL to a server with pgvector to run them',
  );

describe.skipIf(!pgUrl)('Postgres server store (LLMKIT_PG_URL)', () => {
  const table = `llmkit_test_${process.pid}`;
  let store: VectorStore | undefined;
  afterAll(async () => {
    if (store) {
      await store.remove(records.map((r) => r.id));
      await store.close();
    }
  });

  it('runs the same SQL as PGlite: insert, search, filter, delete', async () => {
    store = await createPostgresStore({ connectionString: pgUrl, dimension, table });
    await store.add(records);
    await checkAgainstFlat(store);
    expect(await store.remove('r0')).toBe(1);
    expect(await store.count()).toBe(299);
  }, 60_000);
});
