#!/usr/bin/env node
// `pnpm bench rag`: llmkit's retrieval beside its peers, in one run.
//   1. Cranfield 1400 (225 queries, graded judgements): llmkit BM25 vs MiniSearch 7 defaults
//      (nDCG@10, MAP, recall@100, MRR; judgements: grade g -> gain 5 - g, see eval/cranfield.ts).
//   2. HNSW, 100,000 clustered unit vectors of dimension 128, cosine, M 16, efConstruction 200,
//      efSearch 64, 500 queries: recall@10 against exact search, queries/s, build time; llmkit vs
//      hnswlib-node 3 (C++ hnswlib) with the same settings, both single-threaded.
//   3. PGlite store (pgvector in WebAssembly): insert and query throughput for 100,000 vectors.
//   4. Cranfield with the encoder embedder (@llmkit/rag/encoder): a 0.9M-parameter Encoder trained
//      from scratch on pairs made from the documents alone (bench/encoder.mjs), vs BM25 and fused.
// Options: --hnsw=N (vectors, default 100000), --pglite=N (default 100000), --queries=N (500),
// --epochs=N (encoder, default 3), --skip=cranfield,hnsw,pglite,encoder. Prints tables, then one
// JSON line.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import MiniSearch from 'minisearch';
import {
  createBm25Index,
  createFlatIndex,
  createHnswIndex,
  createPgliteStore,
} from '../dist/index.js';
import { evaluateRetrieval, loadCranfield } from '../dist/eval.js';
import { clusteredVectors } from '../dist/vector/testing.js';
import { cranfieldEncoder } from './encoder.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const options = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => a.replace(/^--/, '').split('='))
    .map(([k, v]) => [k, v ?? 'true']),
);
const skip = new Set((options.skip ?? '').split(',').filter(Boolean));
const hnswCount = Number(options.hnsw ?? 100_000);
const pgliteCount = Number(options.pglite ?? 100_000);
const queryCount = Number(options.queries ?? 500);
const dimension = 128;
const started = performance.now();

const cpuModel = (() => {
  try {
    return (
      readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model
    );
  } catch {
    return cpus()[0]?.model;
  }
})();
const machine = {
  cpu: cpuModel,
  cores: cpus().length,
  node: process.version,
  loadAtStart: loadavg().map((x) => +x.toFixed(2)),
};
console.log(
  `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAtStart.join(' ')}`,
);
const result = { machine };
const seconds = (t) => (performance.now() - t) / 1000;
const fixed = (x, digits = 4) => (typeof x === 'number' ? x.toFixed(digits) : String(x));
function table(title, header, rows) {
  console.log(`\n${title}`);
  const all = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of all.slice(1)) console.log(line(r));
}

// 1. Cranfield -------------------------------------------------------------------------------
const cranfieldDir = join(here, '../../../../shared/data/cranfield');
if (!skip.has('cranfield') && existsSync(join(cranfieldDir, 'cranqrel'))) {
  const { documents, queries, qrels } = await loadCranfield(cranfieldDir);
  const systems = [];
  const evaluate = async (name, build, search) => {
    let t = performance.now();
    const engine = await build();
    const indexSeconds = seconds(t);
    t = performance.now();
    const run = {};
    for (const q of queries) run[q.id] = await search(engine, q.text);
    const querySeconds = seconds(t);
    const m = evaluateRetrieval(run, qrels, { cutoffs: [10, 100] });
    systems.push({
      name,
      ndcg10: m.ndcg[10],
      map: m.map,
      recall100: m.recall[100],
      mrr: m.mrr,
      indexSeconds,
      queriesPerSecond: queries.length / querySeconds,
    });
  };
  const miniSearch = (fields) => async () => {
    const ms = new MiniSearch({ fields, idField: 'id' });
    ms.addAll(documents);
    return ms;
  };
  const msSearch = async (ms, text) => ms.search(text).slice(0, 100);
  const bm25 = (config) => async () => {
    const index = createBm25Index(config);
    await index.add(documents.map((d) => ({ id: d.id, text: d.text, fields: { title: d.title } })));
    return index;
  };
  const bm25Search = (index, text) => index.search(text, { k: 100 });
  await evaluate('MiniSearch 7.2 defaults (field text)', miniSearch(['text']), msSearch);
  await evaluate(
    'MiniSearch 7.2 defaults (fields title, text)',
    miniSearch(['title', 'text']),
    msSearch,
  );
  await evaluate(
    'llmkit BM25 defaults (k1 1.2, b 0.75), text only',
    bm25({ fieldBoosts: { title: 0 } }),
    bm25Search,
  );
  await evaluate(
    'llmkit BM25F, title boost 2 (k1 1.2, b 0.75)',
    bm25({ fieldBoosts: { title: 2 } }),
    bm25Search,
  );
  await evaluate(
    'llmkit BM25F, title boost 2, k1 2.0 (grid best)',
    bm25({ k1: 2, fieldBoosts: { title: 2 } }),
    bm25Search,
  );
  table(
    `Cranfield 1400: ${queries.length} queries, ${Object.values(qrels).reduce((n, q) => n + Object.keys(q).length, 0)} judgements (gain = 5 - grade)`,
    ['system', 'nDCG@10', 'MAP', 'recall@100', 'MRR', 'index s', 'queries/s'],
    systems.map((s) => [
      s.name,
      fixed(s.ndcg10),
      fixed(s.map),
      fixed(s.recall100),
      fixed(s.mrr),
      fixed(s.indexSeconds, 2),
      fixed(s.queriesPerSecond, 0),
    ]),
  );
  const baseline = systems[0];
  const ours = systems[3];
  console.log(
    `ratio nDCG@10, llmkit BM25F title boost 2 / MiniSearch defaults: ${(ours.ndcg10 / baseline.ndcg10).toFixed(3)} (goal >= 1.3); vs MiniSearch on the same fields: ${(ours.ndcg10 / systems[1].ndcg10).toFixed(3)}`,
  );
  result.cranfield = {
    systems,
    ratioNdcg10VsMiniSearchDefaults: ours.ndcg10 / baseline.ndcg10,
    ratioNdcg10VsMiniSearchSameFields: ours.ndcg10 / systems[1].ndcg10,
  };
} else if (!skip.has('cranfield')) {
  console.log(`\nCranfield skipped: ${cranfieldDir} is absent`);
}

// 2. HNSW ------------------------------------------------------------------------------------
// 1,000 clusters of about 100 unit vectors; queries drawn from the same clusters
const vectors =
  !skip.has('hnsw') || !skip.has('pglite')
    ? clusteredVectors(Math.max(hnswCount, pgliteCount), dimension, { clusters: 1000, seed: 1 })
    : [];
const queryVectors = clusteredVectors(queryCount, dimension, { clusters: 1000, seed: 1 + 1 });
async function exactTopTen(count) {
  const flat = createFlatIndex({ dimension, metric: 'cosine' });
  await flat.add(vectors.slice(0, count).map((vector, i) => ({ id: String(i), vector })));
  const truth = [];
  for (const q of queryVectors)
    truth.push(new Set((await flat.search(q, { k: 10 })).map((r) => r.id)));
  return truth;
}
// queries/s: one untimed pass to warm up (JIT and WebAssembly tier-up), then the median of 3 passes
async function timedPasses(runPass) {
  await runPass();
  const rates = [];
  let lists;
  for (let pass = 0; pass < 3; pass++) {
    const t = performance.now();
    lists = await runPass();
    rates.push(queryCount / seconds(t));
  }
  rates.sort((a, b) => a - b);
  return { lists, queriesPerSecond: rates[1] };
}
const recallOf = (truth, lists) =>
  lists.reduce((hits, list, i) => hits + list.filter((id) => truth[i].has(String(id))).length, 0) /
  (10 * truth.length);

if (!skip.has('hnsw')) {
  const settings = { m: 16, efConstruction: 200, efSearch: 64 };
  let t = performance.now();
  const truth = await exactTopTen(hnswCount);
  const exactSeconds = seconds(t);
  const rows = [];

  // llmkit
  const ours = createHnswIndex({
    dimension,
    metric: 'cosine',
    m: settings.m,
    efConstruction: settings.efConstruction,
  });
  t = performance.now();
  await ours.add(vectors.slice(0, hnswCount).map((vector, i) => ({ id: String(i), vector })));
  const oursBuild = seconds(t);
  for (const efSearch of [settings.efSearch, 4 * settings.efSearch]) {
    const timed = await timedPasses(async () => {
      const lists = [];
      for (const q of queryVectors)
        lists.push((await ours.search(q, { k: 10, efSearch })).map((r) => r.id));
      return lists;
    });
    rows.push({
      name: 'llmkit createHnswIndex (TypeScript + WebAssembly SIMD)',
      efSearch,
      recall10: recallOf(truth, timed.lists),
      queriesPerSecond: timed.queriesPerSecond,
      buildSeconds: oursBuild,
    });
  }

  // hnswlib-node
  let hnswlib = null;
  try {
    hnswlib = (await import('hnswlib-node')).default;
  } catch (error) {
    console.log(
      `\nhnswlib-node could not be loaded (${error.message}); its native build needs the install script allowed (pnpm.onlyBuiltDependencies)`,
    );
  }
  if (hnswlib) {
    const arrays = vectors.slice(0, hnswCount).map((v) => Array.from(v));
    const queryArrays = queryVectors.map((q) => Array.from(q));
    const lib = new hnswlib.HierarchicalNSW('cosine', dimension);
    t = performance.now();
    lib.initIndex(hnswCount, settings.m, settings.efConstruction, 100);
    for (let i = 0; i < hnswCount; i++) lib.addPoint(arrays[i], i);
    const libBuild = seconds(t);
    for (const efSearch of [settings.efSearch, 4 * settings.efSearch]) {
      lib.setEf(efSearch);
      const timed = await timedPasses(async () =>
        queryArrays.map((q) => lib.searchKnn(q, 10).neighbors),
      );
      rows.push({
        name: 'hnswlib-node 3.0.0 (C++ hnswlib)',
        efSearch,
        recall10: recallOf(truth, timed.lists),
        queriesPerSecond: timed.queriesPerSecond,
        buildSeconds: libBuild,
      });
    }
  }
  table(
    `HNSW: ${hnswCount.toLocaleString('en')} clustered unit vectors, dimension ${dimension}, cosine, M ${settings.m}, efConstruction ${settings.efConstruction}, efSearch ${settings.efSearch} and ${4 * settings.efSearch}, ${queryCount} queries (exact top-10 by flat search took ${exactSeconds.toFixed(1)} s)`,
    ['index', 'efSearch', 'recall@10', 'queries/s (median of 3 passes)', 'build s'],
    rows.map((r) => [
      r.name,
      r.efSearch,
      fixed(r.recall10),
      fixed(r.queriesPerSecond, 0),
      fixed(r.buildSeconds, 1),
    ]),
  );
  result.hnsw = { count: hnswCount, dimension, queries: queryCount, ...settings, rows };
  if (rows.length === 4) {
    const [a, , b] = rows; // efSearch 64 of each
    const ratios = {
      recallDifference: a.recall10 - b.recall10,
      queriesPerSecondRatio: a.queriesPerSecond / b.queriesPerSecond,
      buildTimeRatio: a.buildSeconds / b.buildSeconds,
    };
    console.log(
      `llmkit vs hnswlib: recall@10 ${ratios.recallDifference >= 0 ? '+' : ''}${ratios.recallDifference.toFixed(4)} (goal within 0.01), queries/s x${ratios.queriesPerSecondRatio.toFixed(2)} (goal >= 0.5), build time x${ratios.buildTimeRatio.toFixed(2)}`,
    );
    result.hnsw.ratios = ratios;
  }
}

// 3. PGlite ----------------------------------------------------------------------------------
if (!skip.has('pglite')) {
  const truth = await exactTopTen(pgliteCount);
  const rows = [];
  // inserts with the HNSW index in place, on a sample (pgvector updates the graph per row)
  const sample = Math.min(2000, pgliteCount);
  let store = await createPgliteStore({ dimension, table: 'immediate_sample' });
  let t = performance.now();
  await store.add(vectors.slice(0, sample).map((vector, i) => ({ id: String(i), vector })));
  rows.push([
    'insert, HNSW index in place',
    `${sample.toLocaleString('en')} rows`,
    `${fixed(sample / seconds(t), 0)} rows/s`,
  ]);
  await store.close();
  // bulk load: rows first, index once at the end (pgvector's advice for initial loads)
  store = await createPgliteStore({ dimension, indexing: 'deferred', efSearch: 64 });
  t = performance.now();
  await store.add(
    vectors.slice(0, pgliteCount).map((vector, i) => ({
      id: String(i),
      vector,
      text: `chunk ${i}`,
      metadata: { cluster: i % 10 },
    })),
  );
  const insertSeconds = seconds(t);
  rows.push([
    'bulk insert, no index yet',
    `${pgliteCount.toLocaleString('en')} rows`,
    `${fixed(pgliteCount / insertSeconds, 0)} rows/s`,
  ]);
  t = performance.now();
  await store.createIndex();
  const indexSeconds = seconds(t);
  rows.push([
    'CREATE INDEX hnsw (m 16, ef_construction 64)',
    `${pgliteCount.toLocaleString('en')} rows`,
    `${fixed(indexSeconds, 1)} s`,
  ]);
  for (const q of queryVectors.slice(0, 20)) await store.search(q, { k: 10, efSearch: 64 });
  t = performance.now();
  const lists = [];
  for (const q of queryVectors)
    lists.push((await store.search(q, { k: 10, efSearch: 64 })).map((r) => r.id));
  const qps = queryCount / seconds(t);
  rows.push([
    'search k 10, ef_search 64',
    `${queryCount} queries`,
    `${fixed(qps, 0)} queries/s, recall@10 ${fixed(recallOf(truth, lists))}`,
  ]);
  await store.close();
  table(
    `PGlite 0.4.6 + pgvector 0.8 (WebAssembly, in memory), dimension ${dimension}, cosine`,
    ['operation', 'size', 'throughput'],
    rows,
  );
  result.pglite = {
    count: pgliteCount,
    insertRowsPerSecond: pgliteCount / insertSeconds,
    indexSeconds,
    queriesPerSecond: qps,
    recall10: recallOf(truth, lists),
    rows,
  };
}

// 4. Encoder embedder on Cranfield -------------------------------------------------------------
if (!skip.has('encoder') && existsSync(join(cranfieldDir, 'cranqrel'))) {
  const e = await cranfieldEncoder(cranfieldDir, { epochs: options.epochs ?? 3 });
  table(
    `Cranfield 1400, encoder embedder (${e.parameters.toLocaleString()} parameters, ${e.backend} backend) trained on ${e.pairs} pairs from the documents alone: ${e.steps} steps, loss ${fixed(e.firstLoss, 3)} -> ${fixed(e.lastLoss, 3)}, ${fixed(e.trainSeconds, 0)} s`,
    ['system', 'nDCG@10', 'MAP', 'recall@100'],
    e.systems.map((x) => [x.name, fixed(x.ndcg10), fixed(x.map), fixed(x.recall100)]),
  );
  result.encoder = e;
} else if (!skip.has('encoder')) {
  console.log(`\nEncoder embedder on Cranfield skipped: ${cranfieldDir} is absent`);
}

result.machine.loadAtEnd = loadavg().map((x) => +x.toFixed(2));
result.totalSeconds = seconds(started);
console.log(
  `\nload average at end: ${result.machine.loadAtEnd.join(' ')} (2 shared cores: figures are noisy when load exceeds 2); total ${result.totalSeconds.toFixed(0)} s`,
);
console.log(JSON.stringify({ benchmark: 'rag', ...result }));
