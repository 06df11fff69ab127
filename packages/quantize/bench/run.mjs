// pnpm bench quantize: quality, agreement with llama.cpp, and speed of @llmkit/quantize's formats.
//
// Quality: the shakespeare-char model of `llmkit train` (run folder from LLMKIT_QUANTIZE_RUN, or
// trained here with the demo CLI: --preset shakespeare-char --max-steps LLMKIT_QUANTIZE_STEPS,
// default 2000) evaluated on the whole validation split (the last 10% of tinyshakespeare, as the
// CLI splits it), float32 and each format: every Linear but the tied head, and (rows "+ emb")
// also the embeddings with `embeddings: true` (the tied head then reads wte's packed rows).
// llama.cpp's published deltas (LLaMA-7B, wikitext-2) stand beside Q8_0 and Q4_0.
// Agreement: the same model in GPT-2's layout (gpt2Layout), q8_0 / q4_0 with embeddings, written
// as GGUF with its character vocabulary; llama.cpp's greedy ids against llmkit's from 4 prompts.
// Speed: GPT-2 124M shape, random weights, 32-token prompt, 128 greedy tokens with the KV cache,
// float32 and int8 / q8_0 / int4 / q4_0 with quantized embeddings (int8 and int4 with float and
// with 8-bit activations, "a8"; q8_0 and q4_0 with their default 8-bit ones), best of 3; llama.cpp Q8_0 /
// Q4_0 on the same weights, both engines on the same number of threads: LLMKIT_CPU_THREADS (which
// backend-cpu's thread pool reads too; default all cores). llama.cpp parts need
// LLMKIT_NODE_LLAMA_CPP (a folder where `npm i node-llama-cpp` ran, about 700 MB).
// LLMKIT_QUANTIZE_SPEED=0 skips the speed rows, LLMKIT_QUANTIZE_QUALITY=0 the quality and
// agreement ones. Timings on a shared machine are noisy: the load average is printed, each engine
// shows its best repeat, and on a busy machine one thread each (LLMKIT_CPU_THREADS=1) is steadier
// (two threads' barriers stall whenever another process takes a core).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@llmkit/backend-cpu/register';
import { getBackend, manualSeed, setBackend } from '@llmkit/core-tensor';
import {
  characterVocabulary,
  evaluateLoss,
  exportQuantizedGguf,
  gpt2Layout,
  quantizeModel,
  weightBytes,
} from '@llmkit/quantize';
import { getEncoding } from '@llmkit/tokenizer';
import { GPT, load } from '@llmkit/transformer';
import { followLlamaCpp } from '../dist/testing/follow-llama-cpp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
await setBackend(getBackend().name);
const cpu = (() => {
  try {
    const text = execFileSync('lscpu', { encoding: 'utf8' });
    const model = /Model name:\s*(.+)/.exec(text)?.[1]?.trim() ?? cpus()[0]?.model;
    const flags = /Flags:\s*(.+)/.exec(text)?.[1] ?? '';
    const simd = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16'].filter((f) =>
      flags.split(' ').includes(f),
    );
    return `${model}, ${cpus().length} cores, ${simd.join(' ')}`;
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
})();
const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const startLoad = loadAverage();
const threads = Number(process.env.LLMKIT_CPU_THREADS ?? cpus().length);
console.log(
  `CPU: ${cpu}; backend ${getBackend().name}, ${threads} thread(s) per engine; load average ${startLoad} at the start`,
);

let llama = null;
const folder = process.env.LLMKIT_NODE_LLAMA_CPP;
if (folder && existsSync(join(folder, 'node_modules', 'node-llama-cpp'))) {
  const require = createRequire(join(folder, 'package.json'));
  const { getLlama } = await import(require.resolve('node-llama-cpp'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
} else {
  console.log(
    'llama.cpp: skipped (set LLMKIT_NODE_LLAMA_CPP=<folder with node-llama-cpp installed>)',
  );
}
const scratch = mkdtempSync(join(tmpdir(), 'llmkit-quantize-bench-'));

// ---- quality ----
const dataPath = join(root, '..', 'shared', 'data', 'tinyshakespeare.txt');
let runDir = process.env.LLMKIT_QUANTIZE_RUN;
const steps = Number(process.env.LLMKIT_QUANTIZE_STEPS ?? 2000);
if (!runDir) {
  runDir = join(scratch, 'run');
  console.log(`training shakespeare-char for ${steps} steps into ${runDir} ...`);
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'apps/demo/dist/cli.js'),
      'train',
      '--data',
      dataPath,
      '--preset',
      'shakespeare-char',
      '--max-steps',
      String(steps),
      '--out',
      runDir,
      '--json',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0) throw new Error('training failed');
}
const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
const chars = run.tokenizer.chars;
const text = readFileSync(run.data && existsSync(run.data) ? run.data : dataPath, 'utf8');
const index = new Map(chars.map((c, i) => [c, i]));
const validationText = text.slice(Math.floor(text.length * 0.9));
const validation = Array.from(validationText, (c) => index.get(c) ?? 0);
// llama.cpp's published perplexity deltas (README of its quantize tool, LLaMA-7B, wikitext-2).
const LLAMA_CPP = { q8_0: '+0.0004 ppl (+0.01%)', q4_0: '+0.25 ppl (about +4%)' };
const formats = [
  { label: 'int8', options: { format: 'int8' }, goal: 0.5 },
  { label: 'int4 g32', options: { format: 'int4', groupSize: 32 }, goal: 3 },
  { label: 'int4 g128', options: { format: 'int4', groupSize: 128 } },
  { label: 'int4 g32 asym', options: { format: 'int4', groupSize: 32, symmetric: false } },
  { label: 'nf4', options: { format: 'nf4' }, goal: 3 },
  { label: 'nf4 double', options: { format: 'nf4', doubleQuantization: true } },
  { label: 'int8 a8', options: { format: 'int8', activations: 'int8' }, goal: 0.5 },
  {
    label: 'int4 g32 a8',
    options: { format: 'int4', groupSize: 32, activations: 'int8' },
    goal: 3,
  },
  { label: 'q8_0', options: { format: 'q8_0' }, llamaCpp: LLAMA_CPP.q8_0 },
  { label: 'q4_0', options: { format: 'q4_0' }, llamaCpp: LLAMA_CPP.q4_0 },
  { label: 'fp16', options: { format: 'fp16' } },
  { label: 'bf16', options: { format: 'bf16' } },
  { label: 'int8 + emb', options: { format: 'int8', embeddings: true }, goal: 0.5 },
  { label: 'int4 g32 + emb', options: { format: 'int4', embeddings: true }, goal: 3 },
  { label: 'q8_0 + emb', options: { format: 'q8_0', embeddings: true }, llamaCpp: LLAMA_CPP.q8_0 },
  { label: 'q4_0 + emb', options: { format: 'q4_0', embeddings: true }, llamaCpp: LLAMA_CPP.q4_0 },
];
const evaluate = (model) => evaluateLoss(model, validation, { batchSize: 32 });
const measureQuality = process.env.LLMKIT_QUANTIZE_QUALITY !== '0';
const floatModel = await load(runDir);
const floatBytes = weightBytes(floatModel);
const floatLoss = measureQuality ? evaluate(floatModel) : Number.NaN;
floatModel.dispose();
const quality = [];
for (const f of measureQuality ? formats : []) {
  const model = await load(runDir);
  quantizeModel(model, f.options);
  const loss = evaluate(model);
  quality.push({
    format: f.label,
    weightMB: weightBytes(model) / 2 ** 20,
    modelRatio: weightBytes(model) / floatBytes,
    loss,
    perplexity: Math.exp(loss),
    changePercent: 100 * (Math.exp(loss - floatLoss) - 1),
    goal: f.goal,
    llamaCpp: f.llamaCpp,
  });
  model.dispose();
}
if (measureQuality) {
  console.log(
    `\nQuality: shakespeare-char (${run.model.nLayer} layers, ${run.model.nEmbd} wide, ${chars.length} characters), ${validation.length} validation characters, run ${runDir}`,
  );
  console.log(
    `f32: weights ${(floatBytes / 2 ** 20).toFixed(3)} MiB, loss ${floatLoss.toFixed(4)}, perplexity ${Math.exp(floatLoss).toFixed(4)}\n`,
  );
  console.log(
    '| format | weights MiB | vs f32 | val loss | perplexity | ppl change | goal | llama.cpp published (LLaMA-7B) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  const signed = (x, digits = 2) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
  for (const q of quality)
    console.log(
      `| ${q.format} | ${q.weightMB.toFixed(3)} | ${q.modelRatio.toFixed(3)}x | ${q.loss.toFixed(4)} | ${q.perplexity.toFixed(4)} | ${signed(q.changePercent)}% | ${q.goal === undefined ? '' : `<= +${q.goal}% ${q.changePercent <= q.goal ? 'met' : 'MISSED'}`} | ${q.llamaCpp ?? ''} |`,
    );
}

// ---- agreement with llama.cpp on the trained model ----
const agreement = [];
if (llama && measureQuality) {
  const promptLength = 16;
  const newTokens = run.model.blockSize - promptLength;
  const offsets = [0, 10_000, 50_000, 100_000];
  // llama.cpp's KV cache is f16 by default; F32 is llmkit's precision
  for (const format of ['q8_0', 'q4_0']) {
    const model = gpt2Layout(await load(runDir)).eval();
    quantizeModel(model, { format, embeddings: true });
    const path = join(scratch, `trained-${format}.gguf`);
    await exportQuantizedGguf(model, path, { tokenizer: characterVocabulary(chars) });
    const loaded = await llama.loadModel({ modelPath: path });
    // llmkit's greedy continuations, once for both of llama.cpp's caches
    const runs = [];
    for (const offset of offsets) {
      const prompt = Array.from(
        validationText.slice(offset, offset + promptLength),
        (c) => index.get(c) ?? 0,
      );
      const [ours] = await model.generate([prompt], { maxNewTokens: newTokens });
      runs.push({ prompt, mine: ours.slice(prompt.length) });
    }
    for (const kvCache of ['F16', 'F32']) {
      // One thread: a model this small is all thread wake-ups with two on a busy machine.
      const context = await loaded.createContext({
        contextSize: run.model.blockSize,
        threads: 1,
        experimentalKvCacheKeyType: kvCache,
        experimentalKvCacheValueType: kvCache,
      });
      const firsts = [];
      const margins = [];
      for (const { prompt, mine } of runs) {
        const result = await followLlamaCpp(model, context, prompt, mine);
        firsts.push(result.first < 0 ? newTokens : result.first);
        margins.push(...result.margins);
      }
      agreement.push({
        format,
        kvCache,
        prompts: offsets.length,
        tokens: newTokens,
        firstPartings: firsts,
        nearTies: margins.length,
        largestMargin: margins.length ? Math.max(...margins) : 0,
      });
      await context.dispose();
    }
    await loaded.dispose();
    model.dispose();
  }
  console.log(
    `\nAgreement: the model above in GPT-2's layout (zero biases, tanh GELU), embeddings quantized, as GGUF with its ${chars.length}-character vocabulary in llama.cpp (ids fed directly); ${agreement[0].prompts} prompts of ${promptLength} validation characters, ${agreement[0].tokens} greedy tokens each`,
  );
  console.log(
    '| format | llama.cpp KV cache | equal greedy ids before the first parting, per prompt | partings (llama.cpp then continues from llmkit) | largest llmkit logit margin at a parting |',
  );
  console.log('| --- | --- | --- | ---: | ---: |');
  for (const a of agreement)
    console.log(
      `| ${a.format} | ${a.kvCache} | ${a.firstPartings.join(', ')} (of ${a.tokens}) | ${a.nearTies} | ${a.largestMargin.toFixed(4)} |`,
    );
}

// ---- speed ----
const speed = [];
if (process.env.LLMKIT_QUANTIZE_SPEED !== '0') {
  const prompt = Array.from({ length: 32 }, (_, i) => (i * 997) % 50257);
  const tokens = 128;
  const make = () => {
    manualSeed(1);
    const m = new GPT({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 });
    return m.eval();
  };
  /** Best of `repeats`: seconds to the first token (prompt) and for the other tokens (decode). */
  const best = async (generate, repeats = 3) => {
    let result = { total: Infinity };
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      let first = 0;
      let n = 0;
      for await (const _ of generate()) {
        if (++n === 1) first = performance.now();
        if (n === tokens) break;
      }
      const ended = performance.now();
      if (ended - started < result.total)
        result = { total: ended - started, prompt: first - started, decode: ended - first };
    }
    return {
      tokensPerSecond: tokens / (result.total / 1000),
      decodeTokensPerSecond: (tokens - 1) / (result.decode / 1000),
    };
  };
  const llamaRows = {};
  // [label, format, activations]: q8_0 and q4_0 take 8-bit activations by default (llama.cpp's
  // arithmetic); int8 and int4 run with float activations (their default) and with 8-bit ones
  const engines = [
    ['f32', 'f32'],
    ['int8', 'int8', 'float32'],
    ['int8 a8', 'int8', 'int8'],
    ['q8_0', 'q8_0'],
    ['int4', 'int4', 'float32'],
    ['int4 a8', 'int4', 'int8'],
    ['q4_0', 'q4_0'],
  ];
  for (const [label, format, activations] of engines) {
    const model = make();
    if (format !== 'f32') quantizeModel(model, { format, embeddings: true, activations });
    const ours = await best(() => model.stream([prompt], { maxNewTokens: tokens }));
    speed.push({
      engine: `llmkit ${label}`,
      format,
      activations: activations ?? (format === 'f32' ? 'float32' : 'int8'),
      ...ours,
      weightMB: weightBytes(model) / 2 ** 20,
    });
    if (llama && (format === 'q8_0' || format === 'q4_0')) {
      const path = join(scratch, `${format}.gguf`);
      await exportQuantizedGguf(model, path, { tokenizer: getEncoding('gpt2') });
      const loaded = await llama.loadModel({ modelPath: path });
      const context = await loaded.createContext({ contextSize: 256, threads });
      const theirs = await best(async function* () {
        const sequence = context.getSequence();
        try {
          yield* sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true });
        } finally {
          sequence.dispose();
        }
      });
      await context.dispose();
      await loaded.dispose();
      // The tied head is token_embd itself (no output.weight in the file): the file's size is its
      // weights plus about 1.7 MiB of vocabulary and metadata.
      llamaRows[format] = {
        engine: `llama.cpp ${format.toUpperCase()}`,
        ...theirs,
        weightMB: readFileSync(path).length / 2 ** 20,
      };
    }
    model.dispose();
  }
  // Each llmkit format beside llama.cpp's of the same bits: int8 and q8_0 vs Q8_0, int4 and q4_0 vs Q4_0.
  const peer = { int8: 'q8_0', q8_0: 'q8_0', int4: 'q4_0', q4_0: 'q4_0' };
  for (const row of speed) {
    const theirs = llamaRows[peer[row.format]];
    if (theirs) {
      row.vsLlamaCpp = row.decodeTokensPerSecond / theirs.decodeTokensPerSecond;
      row.peer = theirs.engine;
    }
  }
  for (const format of ['q8_0', 'q4_0'])
    if (llamaRows[format])
      speed.splice(speed.findIndex((r) => r.format === format) + 1, 0, llamaRows[format]);
  const f32 = speed[0];
  console.log(
    `\nSpeed: GPT-2 124M shape (random weights), ${prompt.length}-token prompt, ${tokens} greedy tokens with the KV cache, best of 3, ${threads} thread(s) per engine; llmkit formats with quantized embeddings (embeddings: true); load average ${loadAverage()} at the end`,
  );
  console.log(
    '| engine | activations | decode tokens/s | tokens/s (prompt + decode) | weights MiB | vs f32 memory | decode vs llama.cpp |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const s of speed)
    console.log(
      `| ${s.engine} | ${s.activations ?? 'int8 (Q8_0)'} | ${s.decodeTokensPerSecond.toFixed(1)} | ${s.tokensPerSecond.toFixed(1)} | ${s.weightMB.toFixed(1)} | ${(s.weightMB / f32.weightMB).toFixed(3)}x | ${s.vsLlamaCpp ? `${s.vsLlamaCpp.toFixed(2)}x ${s.peer}` : ''} |`,
    );
}
rmSync(scratch, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'quantize',
    cpu,
    threads,
    loadAverage: { start: startLoad, end: loadAverage() },
    run: runDir,
    f32: { loss: floatLoss, perplexity: Math.exp(floatLoss), weightBytes: floatBytes },
    quality,
    agreement,
    speed,
  }),
);
