// Cranfield with the encoder embedder: a small Encoder trained from scratch, with no query or
// judgement in sight, on pairs made from the 1400 documents alone (title -> abstract, and one
// sentence -> the rest: contrastive, in-batch negatives), then evaluated on the 225 queries, alone
// and fused with BM25 by reciprocal rank.
// `node bench/encoder.mjs [--epochs=N] [--backend=cpu|js]`; run by bench/run.mjs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, manualSeed, setBackend } from '@llmkit/core-tensor';
import { createBm25Index, createFlatIndex, reciprocalRankFusion } from '../dist/index.js';
import { evaluateRetrieval, loadCranfield } from '../dist/eval.js';
import { createEncoderEmbedder, trainContrastive } from '../dist/encoder.js';
import { trainBpe } from '@llmkit/tokenizer';
import { Encoder } from '@llmkit/transformer';

const here = dirname(fileURLToPath(import.meta.url));
const options = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => a.replace(/^--/, '').split('='))
    .map(([k, v]) => [k, v ?? 'true']),
);

/** Trains the embedder and evaluates it; returns the rows of the table and the JSON figures. */
export async function cranfieldEncoder(cranfieldDir, settings = {}) {
  const epochs = Number(settings.epochs ?? 3);
  const backendName = settings.backend ?? 'cpu';
  if (backendName === 'cpu') await import('@llmkit/backend-cpu/register').catch(() => undefined);
  await setBackend(backendName).catch(() => undefined);
  const backend = getBackend().name;
  const { documents, queries, qrels } = await loadCranfield(cranfieldDir);
  // two pairs per document: its title -> its abstract without the title it usually starts with,
  // and an inverse cloze pair (Lee et al., 2019): one sentence -> the rest of the abstract
  const pairs = [];
  const words = (text) => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  for (const d of documents) {
    const title = words(d.title);
    let body = d.text.trim();
    const start = words(body).slice(0, title.length).join(' ');
    if (title.length > 0 && start === title.join(' ')) {
      // drop as many leading characters as hold the title's words
      let seen = 0;
      const re = /[a-z0-9]+/gi;
      let match = re.exec(body);
      while (match && seen < title.length) {
        seen++;
        if (seen === title.length) body = body.slice(match.index + match[0].length).trim();
        else match = re.exec(body);
      }
    }
    if (!body) continue;
    if (title.length > 0) pairs.push({ query: d.title, positive: body });
    const sentences = body.split(/(?<=\.)\s+/).filter((x) => x.length > 20);
    if (sentences.length >= 3) {
      const pick = sentences[(Number(d.id) * 7) % sentences.length];
      pairs.push({ query: pick, positive: sentences.filter((x) => x !== pick).join(' ') });
    }
  }
  let t = performance.now();
  const tokenizer = trainBpe(documents.map((d) => d.text).join('\n'), { vocabSize: 4000 });
  manualSeed(0);
  const model = new Encoder({
    vocabSize: tokenizer.vocabSize,
    blockSize: 128,
    nLayer: 2,
    nHead: 4,
    nEmbd: 128,
    typeVocabSize: 0,
    pooler: false,
  });
  const embedder = createEncoderEmbedder({ model, tokenizer, batchSize: 64 });
  const evaluate = async () => {
    const vectors = await embedder.embed(documents.map((d) => d.text));
    const index = createFlatIndex({ dimension: embedder.dimension, metric: 'dot' });
    await index.add(documents.map((d, i) => ({ id: d.id, vector: vectors[i] })));
    const queryVectors = await embedder.embed(queries.map((q) => q.text));
    const run = {};
    for (const [i, q] of queries.entries())
      run[q.id] = await index.search(queryVectors[i], { k: 100 });
    return run;
  };
  const untrained = await evaluate();
  const bpeSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const { losses } = await trainContrastive(model, pairs, {
    tokenizer,
    epochs,
    batchSize: 32,
    learningRate: 1e-3,
    temperature: 0.05,
    seed: 0,
  });
  const trainSeconds = (performance.now() - t) / 1000;
  const trained = await evaluate();
  const bm25 = createBm25Index({ fieldBoosts: { title: 0 } });
  await bm25.add(documents.map((d) => ({ id: d.id, text: d.text })));
  const keyword = {};
  for (const q of queries) keyword[q.id] = await bm25.search(q.text, { k: 100 });
  const hybrid = {};
  for (const q of queries)
    hybrid[q.id] = reciprocalRankFusion([keyword[q.id], trained[q.id]], { limit: 100 });
  const metrics = (run) => evaluateRetrieval(run, qrels, { cutoffs: [10, 100] });
  const systems = [
    ['encoder embedder, untrained', metrics(untrained)],
    [`encoder embedder, trained (${losses.length} steps)`, metrics(trained)],
    ['llmkit BM25 (k1 1.2, b 0.75), text only', metrics(keyword)],
    ['BM25 + trained encoder, RRF (k 60)', metrics(hybrid)],
  ];
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    backend,
    parameters: model.parameterCount(),
    pairs: pairs.length,
    steps: losses.length,
    firstLoss: mean(losses.slice(0, 10)),
    lastLoss: mean(losses.slice(-10)),
    trainSeconds,
    bpeSeconds,
    systems: systems.map(([name, m]) => ({
      name,
      ndcg10: m.ndcg[10],
      map: m.map,
      recall100: m.recall[100],
    })),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = join(here, '../../../../shared/data/cranfield');
  if (!existsSync(join(dir, 'cranqrel'))) {
    console.log(`skipped: no Cranfield data at ${dir}`);
  } else {
    const result = await cranfieldEncoder(dir, options);
    console.log(JSON.stringify(result, null, 1));
  }
}
