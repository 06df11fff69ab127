#!/usr/bin/env node
// pnpm bench tokenizer [--quick]
// Encode throughput (MB/s of UTF-8 input) of @llmkit/tokenizer beside tiktoken (WebAssembly),
// gpt-tokenizer and js-tiktoken, in one run, on Tiny Shakespeare and a mixed multilingual/code
// corpus, for cl100k_base and o200k_base; and trainBpe time for a 4,096-token vocabulary.
// Method: one untimed warm-up pass per tokenizer (fills every tokenizer's piece cache, so all
// are measured warm), then the median of interleaved timed passes. Ids are checked against tiktoken's.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get_encoding } from 'tiktoken';
import { getEncoding as jsTiktokenEncoding } from 'js-tiktoken';
import { Tokenizer as TokenizersJs } from '@huggingface/tokenizers';
import { getEncoding, Tokenizer, trainBpe } from '../dist/index.js';
import { mixedCorpus } from '../dist/testing/corpus.js';
import { lenmlFiles, MODELS } from '../dist/testing/hf-files.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const shakespearePath = join(here, '../../../../shared/data/tinyshakespeare.txt');
const corpora = {
  mixed: mixedCorpus(1_000_000),
};
if (existsSync(shakespearePath)) corpora.shakespeare = readFileSync(shakespearePath, 'utf8');
else console.log('note: ../shared/data/tinyshakespeare.txt is absent; Shakespeare rows skipped');

const gptTokenizer = {
  cl100k_base: await import('gpt-tokenizer/encoding/cl100k_base'),
  o200k_base: await import('gpt-tokenizer/encoding/o200k_base'),
};

// Passes are interleaved (one pass of each tokenizer per round) so that a change in machine load
// during the run affects every tokenizer alike; each result is the median over its rounds.
function timeInterleaved(candidates, rounds, singlePass) {
  const times = Object.fromEntries(Object.keys(candidates).map((name) => [name, []]));
  for (const fn of Object.values(candidates)) fn(); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(candidates)) {
      if (round > 0 && singlePass.includes(name)) continue;
      const t = performance.now();
      fn();
      times[name].push(performance.now() - t);
    }
  }
  return Object.fromEntries(
    Object.entries(times).map(([name, list]) => [
      name,
      list.sort((a, b) => a - b)[Math.floor(list.length / 2)],
    ]),
  );
}

const rows = [];
for (const encodingName of ['cl100k_base', 'o200k_base']) {
  const ours = getEncoding(encodingName);
  const tiktoken = get_encoding(encodingName);
  const js = jsTiktokenEncoding(encodingName);
  const gpt = gptTokenizer[encodingName];
  for (const [corpusName, text] of Object.entries(corpora)) {
    const megabytes = Buffer.byteLength(text) / 1e6;
    const reference = Array.from(tiktoken.encode_ordinary(text));
    const candidates = {
      '@llmkit/tokenizer': () => ours.encodeOrdinary(text),
      tiktoken: () => tiktoken.encode_ordinary(text),
      'gpt-tokenizer': () => gpt.encode(text, { disallowedSpecial: new Set() }),
      'js-tiktoken': () => js.encode(text, [], []),
    };
    const result = { encoding: encodingName, corpus: corpusName, megabytes: +megabytes.toFixed(3) };
    // js-tiktoken takes seconds per pass on this corpus: one timed pass
    const medians = timeInterleaved(candidates, quick ? 3 : 9, ['js-tiktoken']);
    for (const [name, fn] of Object.entries(candidates)) {
      const ids = Array.from(fn());
      const same = ids.length === reference.length && ids.every((id, i) => id === reference[i]);
      result[name] = {
        mbPerS: +(megabytes / (medians[name] / 1000)).toFixed(2),
        sameIdsAsTiktoken: same,
      };
    }
    rows.push(result);
  }
  tiktoken.free();
}

// Hugging Face tokenizer.json beside Tokenizers.js (@huggingface/tokenizers), same text, ids compared
const hfText = mixedCorpus(quick ? 200_000 : 500_000);
const hfMegabytes = Buffer.byteLength(hfText) / 1e6;
const hfRows = [];
for (const model of MODELS) {
  const { json, config } = lenmlFiles(model);
  const ours = new Tokenizer(json, config);
  const peer = new TokenizersJs(json, config);
  const candidates = {
    '@llmkit/tokenizer': () => ours.encode(hfText),
    'Tokenizers.js': () => peer.encode(hfText).ids,
  };
  const medians = timeInterleaved(candidates, quick ? 3 : 5, []);
  const a = candidates['@llmkit/tokenizer']();
  const b = candidates['Tokenizers.js']();
  const same = a.length === b.length && a.every((id, i) => id === b[i]);
  const ourSpeed = hfMegabytes / (medians['@llmkit/tokenizer'] / 1000);
  const peerSpeed = hfMegabytes / (medians['Tokenizers.js'] / 1000);
  hfRows.push({
    model,
    megabytes: +hfMegabytes.toFixed(3),
    llmkitMbPerS: +ourSpeed.toFixed(2),
    tokenizersJsMbPerS: +peerSpeed.toFixed(2),
    ratio: +(ourSpeed / peerSpeed).toFixed(2),
    sameIds: same,
  });
}

const trainText = corpora.shakespeare ?? corpora.mixed;
const t = performance.now();
const trained = trainBpe(trainText, { vocabSize: 4096 });
const trainSeconds = (performance.now() - t) / 1000;

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`machine: ${cpu}, ${cpus().length} cores, Node ${process.version}`);
console.log(
  `encode throughput, MB/s (warm, median of interleaved passes); ratio = llmkit / fastest peer; load average ${loadavg()[0].toFixed(2)}\n`,
);
const peers = ['tiktoken', 'gpt-tokenizer', 'js-tiktoken'];
const header = ['encoding', 'corpus', 'MB', '@llmkit/tokenizer', ...peers, 'ratio vs fastest peer'];
const lines = [header];
for (const r of rows) {
  const fastest = Math.max(...peers.map((p) => r[p].mbPerS));
  lines.push([
    r.encoding,
    r.corpus,
    r.megabytes.toFixed(2),
    r['@llmkit/tokenizer'].mbPerS.toFixed(2),
    ...peers.map(
      (p) => `${r[p].mbPerS.toFixed(2)}${r[p].sameIdsAsTiktoken ? '' : ' (ids differ)'}`,
    ),
    `${(r['@llmkit/tokenizer'].mbPerS / fastest).toFixed(2)}x`,
  ]);
  r.ratioVsFastestPeer = +(r['@llmkit/tokenizer'].mbPerS / fastest).toFixed(3);
}
const widths = header.map((_, c) => Math.max(...lines.map((l) => String(l[c]).length)));
for (const [i, l] of lines.entries()) {
  console.log(`| ${l.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ')} |`);
  if (i === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
}
console.log(
  `\nHugging Face tokenizer.json, encode MB/s on the mixed corpus (${hfMegabytes.toFixed(2)} MB; median of interleaved passes)\n`,
);
console.log('| tokenizer.json | @llmkit/tokenizer | Tokenizers.js | ratio | same ids |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of hfRows)
  console.log(
    `| ${r.model} | ${r.llmkitMbPerS.toFixed(2)} | ${r.tokenizersJsMbPerS.toFixed(2)} | ${r.ratio.toFixed(2)}x | ${r.sameIds ? 'yes' : 'NO'} |`,
  );
console.log(
  `\ntrainBpe: vocabulary 4,096 on ${corpora.shakespeare ? 'Tiny Shakespeare' : 'the mixed corpus'} (${(trainText.length / 1e6).toFixed(2)} M chars) in ${trainSeconds.toFixed(2)} s (vocabSize reached: ${trained.vocabSize})`,
);
console.log(
  JSON.stringify({
    benchmark: 'tokenizer',
    machine: { cpu, cores: cpus().length, node: process.version },
    encode: rows,
    huggingFace: hfRows,
    trainBpe: { vocabSize: 4096, seconds: +trainSeconds.toFixed(3) },
  }),
);
