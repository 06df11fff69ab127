#!/usr/bin/env node
// `pnpm bench transformer`: greedy generation with the KV cache on a GPT-2 124M-shaped model
// (12 layers, 12 heads, 768 wide, vocabulary 50,257; random weights), batch 1, a 32-token prompt,
// 128 new tokens; llmkit on the `cpu` backend (js when @llmkit/backend-cpu cannot load) beside
// llama.cpp (node-llama-cpp, on the same weights exported with exportGguf) and PyTorch eager.
// Then the sampling overhead per token (top-k 50, top-p 0.9) for vocabularies of 50,257 and
// 200,019. Prints a table and one JSON line.
//
// Options: --new-tokens N, --prompt N, --rounds N (default 3), --skip-llama, --skip-torch,
// --torch-threads N (default 1).
// llama.cpp: node-llama-cpp is not a workspace dependency (about 700 MB of prebuilt binaries);
// point LLMKIT_NODE_LLAMA_CPP at a folder where `npm i node-llama-cpp` ran.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Generator, getBackend, manualSeed, noGrad, setBackend } from '@llmkit/core-tensor';
import { createSampler } from '@llmkit/sampling';
import { getEncoding } from '@llmkit/tokenizer';
import { GPT, KVCache } from '@llmkit/transformer';
import { exportGguf } from '@llmkit/transformer/gguf';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const NEW_TOKENS = option('new-tokens', 128);
const PROMPT = option('prompt', 32);
const TORCH_THREADS = option('torch-threads', 1);
const ROUNDS = option('rounds', 3);
const now = () => performance.now();

// --- machine and backend ---------------------------------------------------------------------
const cpuModel =
  readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('model name'))
    ?.split(':')[1]
    ?.trim() ?? cpus()[0]?.model;
const machine = {
  cpu: cpuModel,
  cores: cpus().length,
  loadAverage: loadavg().map((x) => +x.toFixed(2)),
};
let backendNote = '';
try {
  const register = join(here, '..', '..', 'backend-cpu', 'dist', 'register.js');
  if (!existsSync(register)) throw new Error('packages/backend-cpu is not built');
  await import(pathToFileURL(register).href);
  await setBackend('cpu');
} catch (error) {
  backendNote = `cpu backend unavailable (${error.message}); using js`;
}
const backend = getBackend().name;

// --- llmkit ----------------------------------------------------------------------------------
manualSeed(0);
let t = now();
const model = new GPT({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 });
model.eval();
const buildSeconds = (now() - t) / 1000;
const generator = new Generator(1);
const prompt = Array.from({ length: PROMPT }, () => generator.nextInt(0, 50257));
const argmax = (logits) => {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
};
// warm-up (first-call costs: pools, JIT)
{
  const cache = new KVCache();
  await model.nextTokenLogits([prompt.slice(0, 8)], [new Array(8).fill(1)], cache);
  await model.nextTokenLogits([[1]], [[1]], cache);
  cache.dispose();
}
const measureLlmkit = async () => {
  const cache = new KVCache();
  let start = now();
  let logits = await model.nextTokenLogits([prompt], [prompt.map(() => 1)], cache);
  const prefill = now() - start;
  const out = [argmax(logits)];
  start = now();
  for (let i = 1; i < NEW_TOKENS; i++) {
    logits = await model.nextTokenLogits([[out[out.length - 1]]], [[1]], cache);
    out.push(argmax(logits));
  }
  const seconds = (now() - start) / 1000;
  cache.dispose();
  return { ids: out, prefillMs: prefill, decodeTokensPerSecond: (NEW_TOKENS - 1) / seconds };
};
const llmkitRuns = [await measureLlmkit()];
const ids = llmkitRuns[0].ids;
t = now();
const [generated] = await model.generate([prompt], { maxNewTokens: NEW_TOKENS });
const generateSeconds = (now() - t) / 1000;
const best = (runs, key, pick) => pick(...runs.map((r) => r[key]));
const llmkit = {
  backend,
  generateTokensPerSecond: NEW_TOKENS / generateSeconds,
  sameIdsAsGenerate: generated.slice(PROMPT).every((id, i) => id === ids[i]),
};

// --- llama.cpp, interleaved with llmkit ------------------------------------------------------
// The machine is shared, so load changes during a run: the engines take turns for ROUNDS rounds
// (llmkit, llama.cpp f32, llama.cpp f16) and each reports its best round.
let llama = { skipped: 'pass LLMKIT_NODE_LLAMA_CPP=<folder with node-llama-cpp installed>' };
const llamaFolder = process.env.LLMKIT_NODE_LLAMA_CPP;
const llamaRuns = { f32: [], f16: [] };
const llamaEngines = [];
if (args.includes('--skip-llama')) llama = { skipped: '--skip-llama' };
else if (llamaFolder && existsSync(join(llamaFolder, 'node_modules', 'node-llama-cpp'))) {
  const require = createRequire(join(llamaFolder, 'package.json'));
  const { getLlama } = await import(pathToFileURL(require.resolve('node-llama-cpp')).href);
  const instance = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  for (const dtype of ['f32', 'f16']) {
    const path = join(tmpdir(), `llmkit-bench-gpt2-${dtype}.gguf`);
    await exportGguf(model, path, { dtype, tokenizer: getEncoding('gpt2') });
    const loaded = await instance.loadModel({ modelPath: path });
    const context = await loaded.createContext({ contextSize: 512, threads: cpus().length });
    const run = async () => {
      const sequence = context.getSequence();
      const out = [];
      let first = 0;
      const start = now();
      for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
        if (out.length === 0) first = now();
        out.push(token);
        if (out.length === NEW_TOKENS) break;
      }
      const end = now();
      sequence.dispose();
      return {
        ids: out,
        prefillMs: first - start, // prompt evaluation plus the first token
        decodeTokensPerSecond: (NEW_TOKENS - 1) / ((end - first) / 1000),
      };
    };
    await run(); // warm-up
    llamaEngines.push({
      dtype,
      run,
      release: async () => {
        await context.dispose();
        await loaded.dispose();
        rmSync(path, { force: true });
      },
    });
  }
}
const loadPerRound = [];
for (let round = 0; round < ROUNDS; round++) {
  if (round > 0) llmkitRuns.push(await measureLlmkit());
  for (const engine of llamaEngines) llamaRuns[engine.dtype].push(await engine.run());
  loadPerRound.push(+loadavg()[0].toFixed(2));
}
llmkit.prefillMs = best(llmkitRuns, 'prefillMs', Math.min);
llmkit.decodeTokensPerSecond = best(llmkitRuns, 'decodeTokensPerSecond', Math.max);
llmkit.rounds = llmkitRuns.map((r) => +r.decodeTokensPerSecond.toFixed(2));
if (llamaEngines.length > 0) {
  llama = {};
  for (const engine of llamaEngines) {
    const runs = llamaRuns[engine.dtype];
    llama[engine.dtype] = {
      threads: cpus().length,
      prefillMs: best(runs, 'prefillMs', Math.min),
      decodeTokensPerSecond: best(runs, 'decodeTokensPerSecond', Math.max),
      rounds: runs.map((r) => +r.decodeTokensPerSecond.toFixed(2)),
      sameIdsAsLlmkit: runs.every((r) => r.ids.every((id, i) => id === ids[i])),
    };
    await engine.release();
  }
}

// --- PyTorch ---------------------------------------------------------------------------------
let torch = { skipped: '--skip-torch' };
if (!args.includes('--skip-torch')) {
  const result = spawnSync(
    '/usr/bin/python3',
    [join(here, 'torch_peer.py'), String(TORCH_THREADS), String(PROMPT), String(NEW_TOKENS)],
    {
      encoding: 'utf8',
    },
  );
  torch =
    result.status === 0
      ? JSON.parse(result.stdout.trim().split('\n').pop())
      : { skipped: result.stderr.slice(-300) };
}

// --- sampling overhead -----------------------------------------------------------------------
const samplingMs = {};
for (const vocab of [50257, 200019]) {
  const sampler = createSampler({ doSample: true, topK: 50, topP: 0.9, seed: 0 });
  const g = new Generator(2);
  const rows = Array.from({ length: 64 }, () =>
    Float32Array.from({ length: vocab }, () => 3 * g.nextNormal()),
  );
  for (let i = 0; i < 50; i++) sampler.sample(rows[i % 64]);
  const reps = 500;
  const start = now();
  for (let i = 0; i < reps; i++) sampler.sample(rows[i % 64]);
  samplingMs[vocab] = (now() - start) / reps;
}
noGrad(() => model.dispose());

// --- report ----------------------------------------------------------------------------------
const fmt = (x, digits = 1) => (typeof x === 'number' ? x.toFixed(digits) : '-');
const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' ? `${(a / b).toFixed(2)}x` : '-';
console.log(
  `machine: ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadAverage.join(' ')} at start, ${loadPerRound.join(' / ')} after each round (best of ${ROUNDS} rounds shown)`,
);
if (backendNote) console.log(backendNote);
console.log(
  `GPT-2 124M shape, random weights, batch 1, ${PROMPT}-token prompt, ${NEW_TOKENS} new tokens, greedy, KV cache`,
);
console.log('| engine | prefill ms | decode tokens/s | llmkit / engine |');
console.log('| --- | ---: | ---: | ---: |');
console.log(
  `| llmkit (${backend}, f32) | ${fmt(llmkit.prefillMs)} | ${fmt(llmkit.decodeTokensPerSecond, 2)} | 1.00x |`,
);
for (const dtype of ['f32', 'f16']) {
  const r = llama[dtype];
  if (r) {
    console.log(
      `| llama.cpp ${dtype} (${r.threads} threads) | ${fmt(r.prefillMs)} | ${fmt(r.decodeTokensPerSecond, 2)} | ${ratio(llmkit.decodeTokensPerSecond, r.decodeTokensPerSecond)} |`,
    );
  }
}
if (llama.skipped) console.log(`| llama.cpp | skipped: ${llama.skipped} | | |`);
if (torch.skipped) console.log(`| PyTorch | skipped | | |`);
else
  console.log(
    `| PyTorch ${torch.torch} eager f32 (${torch.threads} thread) | ${fmt(torch.prefill_ms)} | ${fmt(torch.decode_tokens_per_s, 2)} | ${ratio(llmkit.decodeTokensPerSecond, torch.decode_tokens_per_s)} |`,
  );
console.log(
  `llmkit generate() end to end (prefill + ${NEW_TOKENS} tokens + sampling loop): ${fmt(llmkit.generateTokensPerSecond, 2)} tokens/s; same ids as the manual loop: ${llmkit.sameIdsAsGenerate}`,
);
if (llama.f32)
  console.log(
    `llama.cpp greedy ids equal llmkit's: f32 ${llama.f32.sameIdsAsLlmkit}, f16 ${llama.f16?.sameIdsAsLlmkit}`,
  );
console.log('\nsampling overhead per token (top-k 50, top-p 0.9, multinomial), ms');
console.log('| vocabulary | @llmkit/sampling | PyTorch (HF warpers) | ratio |');
console.log('| ---: | ---: | ---: | ---: |');
for (const vocab of [50257, 200019]) {
  const peer = torch.sampling_ms?.[vocab];
  console.log(
    `| ${vocab} | ${fmt(samplingMs[vocab], 3)} | ${fmt(peer, 3)} | ${ratio(peer, samplingMs[vocab])} faster |`,
  );
}
console.log(
  JSON.stringify({
    benchmark: 'transformer',
    machine,
    backendNote: backendNote || undefined,
    model: { shape: 'gpt2-124M', parameters: 124439808, buildSeconds },
    loadAveragePerRound: loadPerRound,
    promptTokens: PROMPT,
    newTokens: NEW_TOKENS,
    llmkit,
    llamaCpp: llama,
    pytorch: torch,
    samplingMs,
  }),
);
