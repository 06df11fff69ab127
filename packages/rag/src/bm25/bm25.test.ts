import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RagError } from '../errors.js';
import { createAnalyzer } from './analyzer.js';
import { createBm25Index } from './bm25-index.js';
import { loadBm25Index } from './persist.js';

const plain = { stopWords: false as const, stem: false };
const corpus = [
  { id: 'd1', text: 'the cat sat' },
  { id: 'd2', text: 'the cat cat dog' },
  { id: 'd3', text: 'a dog' },
];

describe('createAnalyzer', () => {
  it('splits on Unicode words, lowercases, drops stop words and stems with Porter', () => {
    expect(createAnalyzer()('The Boundary-Layers are flowing.')).toEqual([
      'boundari',
      'layer',
      'flow',
    ]);
    expect(createAnalyzer({ stem: false })("Größe naïve 日本 M2, don't")).toEqual([
      'größe',
      'naïve',
      '日本',
      'm2',
    ]);
    expect(createAnalyzer({ stopWords: false, stem: false })('It is')).toEqual(['it', 'is']);
  });
});

describe('createBm25Index', () => {
  it('scores match hand-computed Okapi BM25 (k1 1.2, b 0.75)', async () => {
    const index = createBm25Index({ analyzer: plain });
    await index.add(corpus);
    // N = 3, average length = (3 + 4 + 2) / 3 = 3; df(cat) = 2, idf = ln(1 + 1.5 / 2.5) = ln 1.6
    const idfCat = Math.log(1.6);
    // d1: tf 1, length 3: normaliser 0.25 + 0.75 * 3/3 = 1 -> tf~ 1 -> idf * 1 / 2.2
    // d2: tf 2, length 4: normaliser 0.25 + 0.75 * 4/3 = 1.25 -> tf~ 1.6 -> idf * 1.6 / 2.8
    const results = await index.search('cat');
    expect(results.map((r) => r.id)).toEqual(['d2', 'd1']);
    expect(results[0].score).toBeCloseTo((idfCat * 1.6) / 2.8, 12);
    expect(results[1].score).toBeCloseTo(idfCat / 2.2, 12);
    // "dog sat": d3 has dog (df 2) at length 2 -> normaliser 0.75 -> tf~ 4/3;
    // d1 has sat (df 1, idf ln(1 + 2.5/1.5)) with tf~ 1; d2 has dog with tf~ 1/1.25 = 0.8
    const idfSat = Math.log(1 + 2.5 / 1.5);
    const dog = await index.search('dog sat', { k: 3 });
    const byId = Object.fromEntries(dog.map((r) => [r.id, r.score]));
    expect(byId.d3).toBeCloseTo((idfCat * (4 / 3)) / (1.2 + 4 / 3), 12);
    expect(byId.d1).toBeCloseTo(idfSat / 2.2, 12);
    expect(byId.d2).toBeCloseTo((idfCat * 0.8) / 2.0, 12);
    // k1 and b are tunable: b = 0 removes length normalisation
    const flat = createBm25Index({ analyzer: plain, b: 0, k1: 2 });
    await flat.add(corpus);
    expect((await flat.search('cat'))[0].score).toBeCloseTo((idfCat * 2) / 4, 12);
  });

  it('weighs fields (BM25F) and filters on metadata', async () => {
    const index = createBm25Index({ analyzer: plain, fieldBoosts: { title: 3 } });
    await index.add([
      { id: 'a', text: 'wing lift', fields: { title: 'drag' }, metadata: { year: 1958 } },
      { id: 'b', text: 'drag drag polar', fields: { title: 'polar' }, metadata: { year: 1960 } },
    ]);
    // "drag": N 2, df 2 (a's title, b's text) -> idf ln(1 + 0.5/2.5) = ln 1.2. Lengths: text 2 and 3 (average 2.5), title 1 and 1.
    // a: title tf 1, normaliser 0.25 + 0.75 * 1/1 = 1 -> tf~ = 3 * 1 = 3
    // b: text tf 2, normaliser 0.25 + 0.75 * 3/2.5 = 1.15 -> tf~ = 2 / 1.15
    const results = await index.search('drag');
    const tfB = 2 / 1.15;
    expect(results.map((r) => r.id)).toEqual(['a', 'b']);
    expect(results[0].score).toBeCloseTo((Math.log(1.2) * 3) / 4.2, 12);
    expect(results[1].score).toBeCloseTo((Math.log(1.2) * tfB) / (1.2 + tfB), 12);
    expect(
      (await index.search('drag', { filter: { year: { $gte: 1960 } } })).map((r) => r.id),
    ).toEqual(['b']);
    expect((await index.search('drag', { filter: (id) => id === 'a' })).map((r) => r.id)).toEqual([
      'a',
    ]);
    await expect(index.search('drag', { filter: { year: { $gtee: 1 } } as never })).rejects.toThrow(
      /unknown operator \$gtee/,
    );
  });

  it('removes and replaces documents; an empty index gives []', async () => {
    const index = createBm25Index({ analyzer: plain });
    expect(await index.search('cat')).toEqual([]);
    await index.add(corpus);
    expect(await index.remove('d2')).toBe(true);
    expect(await index.remove('d2')).toBe(false);
    expect(index.size).toBe(2);
    // now N = 2, df(cat) = 1, average length 2.5: d1 normaliser 0.25 + 0.75 * 3/2.5 = 1.15
    const [hit] = await index.search('cat');
    expect(hit.id).toBe('d1');
    expect(hit.score).toBeCloseTo((Math.LN2 * (1 / 1.15)) / (1.2 + 1 / 1.15), 12);
    await index.add([{ id: 'd1', text: 'dog' }]);
    expect(await index.search('cat')).toEqual([]);
    expect(index.size).toBe(2);
  });

  it('reports progress and stops on abort', async () => {
    const index = createBm25Index();
    const documents = Array.from({ length: 3000 }, (_, i) => ({
      id: `${i}`,
      text: `word${i % 50} shared text ${'pad '.repeat(i % 40)}`,
    }));
    const seen: number[] = [];
    await index.add(documents, { onProgress: (p) => seen.push(p.done) });
    expect(seen.at(-1)).toBe(3000);
    const controller = new AbortController();
    controller.abort();
    await expect(
      createBm25Index().add(documents, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'aborted' });
  });

  it('saves and loads the same scores; a corrupt file is detected and named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bm25-'));
    const path = join(dir, 'index.bm25');
    const index = createBm25Index({ k1: 1.5, b: 0.6, fieldBoosts: { title: 2 } });
    await index.add([
      {
        id: 'x',
        text: 'supersonic flow over wings',
        fields: { title: 'Supersonic wings' },
        metadata: { kind: 'paper' },
      },
      { id: 'y', text: 'boundary layer flow', fields: { title: 'Boundary layers' } },
    ]);
    await index.save(path);
    const loaded = await loadBm25Index(path);
    expect(await loaded.search('flowing wing')).toEqual(await index.search('flowing wing'));
    expect(loaded.options).toEqual(index.options);
    expect(await loaded.search('flow', { filter: { kind: 'paper' } })).toHaveLength(1);
    const bytes = readFileSync(path);
    bytes[bytes.length - 40] ^= 0xff;
    writeFileSync(path, bytes);
    await expect(loadBm25Index(path)).rejects.toThrow(
      new RegExp(`${path}: corrupt bm25 file \\(SHA-256 checksum mismatch\\)`),
    );
    await expect(loadBm25Index(path)).rejects.toBeInstanceOf(RagError);
  });
});
