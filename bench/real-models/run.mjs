#!/usr/bin/env node
// `pnpm bench real-models`: llmkit at real model size against llama.cpp and PyTorch, on the
// models users download: Qwen3-0.6B and Llama-3.2-1B with their published configs (kept beside
// this file) and random weights (N(0, 0.02) matrices, ones for norms) in bf16, written as Hugging
// Face folders with the real tokenizers, and as GGUF files of the same weights for llama.cpp.
//
// Inference, each engine / format / thread count in a fresh child process (its peak RSS its
// own): load seconds, RSS after load and peak, prefill ms of a short and a long prompt, decode
// tokens/s over greedy tokens after a short prompt, and how many of llmkit's greedy ids
// llama.cpp repeats (random weights leave small margins: reported, not required).
//   llmkit: loadPretrained(dir, { dtype }) on the cpu backend: f32 = dtype 'float32', bf16 = the
//   file's dtype (the default), q8_0 / q4_0 = quantizeModel(..., { embeddings: true }) after it.
//   llama.cpp: node-llama-cpp (LLMKIT_NODE_LLAMA_CPP=<folder where `npm i node-llama-cpp` ran>)
//   on the GGUF file of that format, mmap'd (its default).
// LoRA: one training step (r 8, alpha 16, AdamW on the adapter) of llmkit (@llmkit/peft on the
// fused c_attn) and PyTorch (torch_lora.py, q/k/v_proj) on the same weights and token ids: ms per
// step (median after one warm-up), peak RSS, first loss.
//
// Options: --models qwen3,llama  --formats f32,bf16,q8_0,q4_0  --threads 1,2
//   --lora-threads N (default the largest of --threads)  --lora-steps N (default 2, quick 3; the first is the warm-up)
//   --quick (prompts 32 / 128, 16 decode tokens, LoRA 1 x 128; defaults --models qwen3
//   --formats bf16,q8_0 --threads 2)  --skip-inference  --skip-lora
//   --skip-torch  --dir FOLDER (generated files; default /tmp/llmkit-real-models)  --seed N
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { openblasCoreType } from '../openblas.mjs';
import { GGUF_FORMATS, writeGguf } from './gguf.mjs';
import { printInference, printLora } from './report.mjs';
import { here, MODELS, writeModelFolder } from './weights.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const flag = (name) => args.includes(`--${name}`);
const list = (name, fallback) => option(name, fallback).split(',').filter(Boolean);
const quick = flag('quick');
// --quick also narrows the defaults (each can still be given): Qwen3, bf16 and q8_0, 2 threads
const models = list('models', quick ? 'qwen3' : 'qwen3,llama');
const formats = list('formats', quick ? 'bf16,q8_0' : 'f32,bf16,q8_0,q4_0');
const threadCounts = list('threads', quick ? '2' : '1,2').map(Number);
const root = option('dir', '/tmp/llmkit-real-models');
const seed = Number(option('seed', 0));
const loraThreads = Number(option('lora-threads', Math.max(...threadCounts)));
const loraSteps = Number(option('lora-steps', quick ? 3 : 2));
for (const m of models) if (!MODELS[m]) throw new Error(`--models: ${m}? expected qwen3, llama`);
for (const f of formats)
  if (!GGUF_FORMATS[f]) throw new Error(`--formats: ${f}? expected f32, bf16, q8_0, q4_0`);
const sizes = quick
  ? { short: 32, long: 128, decode: 32, newTokens: 16, batch: 1, sequence: 128 }
  : { short: 32, long: 512, decode: 32, newTokens: 64, batch: 4, sequence: 256 };

// ---- machine ----
const cpu = (() => {
  const text = execFileSync('lscpu', { encoding: 'utf8' });
  const model = /Model name:\s*(.+)/.exec(text)?.[1]?.trim() ?? cpus()[0]?.model;
  const flags = (/Flags:\s*(.+)/.exec(text)?.[1] ?? '').split(' ');
  const simd = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'avx512_bf16'];
  return { model, cores: cpus().length, flags: simd.filter((f) => flags.includes(f)) };
})();
const load = () => loadavg().map((l) => +l.toFixed(2));
const started = performance.now();
const startLoad = load();
console.log(
  `CPU: ${cpu.model}, ${cpu.cores} cores, ${cpu.flags.join(' ')}; load average ${startLoad.join(' ')} at the start`,
);
let nodeLlamaCpp = process.env.LLMKIT_NODE_LLAMA_CPP;
let llamaSkipped = null;
if (!nodeLlamaCpp || !existsSync(join(nodeLlamaCpp, 'node_modules', 'node-llama-cpp'))) {
  llamaSkipped = 'set LLMKIT_NODE_LLAMA_CPP=<folder with node-llama-cpp installed>';
  console.log(`llama.cpp: skipped (${llamaSkipped})`);
  nodeLlamaCpp = null;
}

const coreType = openblasCoreType();

/** Runs a child that prints one JSON line last; returns it, or { error } with stderr's tail. */
function child(command, commandArgs, label) {
  const t = performance.now();
  const loadAverage = loadavg()[0];
  const spawn = () =>
    spawnSync(command, commandArgs, {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
      timeout: 30 * 60 * 1000,
      // PyTorch's OpenBLAS on its real kernels, not Prescott's fallback (bench/openblas.mjs)
      env: coreType ? { ...process.env, OPENBLAS_CORETYPE: coreType } : process.env,
    });
  let result = spawn();
  // others rebuild packages/*/dist while this runs: a module missing for a moment is retried once
  if (result.status !== 0 && /ERR_MODULE_NOT_FOUND|Cannot find module/.test(result.stderr ?? '')) {
    spawnSync('sleep', ['30']);
    result = spawn();
  }
  const seconds = ((performance.now() - t) / 1000).toFixed(0);
  const last = result.stdout?.trim().split('\n').pop();
  if (result.status === 0 && last?.startsWith('{')) {
    console.error(`  ${label}: ${seconds} s`);
    return { ...JSON.parse(last), loadAverage };
  }
  const why = `${result.error?.message ?? `exit ${result.status ?? result.signal}`}: ${(result.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
  console.error(`  ${label}: FAILED after ${seconds} s (${why})`);
  return { error: why.slice(0, 400) };
}

/** `count` token ids from a seeded generator, below 100,000 (ordinary tokens in both vocabularies). */
function promptIds(count, streamSeed) {
  let state = (seed * 7919 + streamSeed * 104729 + 1) >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % 100_000;
  });
}

mkdirSync(root, { recursive: true });
const inference = [];
const lora = [];
for (const key of models) {
  const name = MODELS[key].name;
  console.error(`${name}: writing or reusing files under ${root}`);
  const dir = writeModelFolder(root, key, seed, (line) => console.error(`  ${line}`));
  if (!flag('skip-inference')) {
    const prompts = {
      short: promptIds(sizes.short, 1),
      long: promptIds(sizes.long, 2),
      decode: promptIds(sizes.decode, 3),
    };
    for (const format of formats) {
      let gguf = null;
      if (nodeLlamaCpp) gguf = writeGguf(dir, format, (line) => console.error(`  ${line}`));
      for (const threads of threadCounts) {
        const spec = {
          dir,
          gguf,
          format,
          threads,
          prompts,
          newTokens: sizes.newTokens,
          nodeLlamaCpp,
        };
        const run = (engine) =>
          child(
            process.execPath,
            [join(here, 'infer.mjs'), JSON.stringify({ ...spec, engine })],
            `${name} ${format} ${threads}t ${engine}`,
          );
        const row = { model: name, format, threads, llmkit: run('llmkit') };
        row.llamaCpp = nodeLlamaCpp ? run('llama.cpp') : { skipped: llamaSkipped };
        const ours = row.llmkit.ids;
        const theirs = row.llamaCpp.ids;
        if (ours && theirs) {
          let same = 0;
          while (same < ours.length && ours[same] === theirs[same]) same++;
          row.sameGreedyIds = same;
        }
        inference.push(row);
      }
    }
  }
  if (!flag('skip-lora')) {
    const tokens = join(root, `${name}.lora-tokens.${sizes.batch}x${sizes.sequence}.json`);
    const ids = promptIds(sizes.batch * (sizes.sequence + 1), 4);
    writeFileSync(tokens, JSON.stringify({ batch: sizes.batch, sequence: sizes.sequence, ids }));
    const spec = JSON.stringify({
      dir,
      tokens,
      threads: loraThreads,
      steps: loraSteps,
      learningRate: 1e-4,
    });
    const row = { model: name, batch: sizes.batch, sequence: sizes.sequence, threads: loraThreads };
    row.llmkit = child(process.execPath, [join(here, 'lora.mjs'), spec], `${name} LoRA llmkit`);
    row.pytorch = flag('skip-torch')
      ? { skipped: '--skip-torch' }
      : child('/usr/bin/python3', [join(here, 'torch_lora.py'), spec], `${name} LoRA PyTorch`);
    lora.push(row);
  }
}

const endLoad = load();
const minutes = (performance.now() - started) / 60000;
console.log(
  `\n${quick ? 'quick run' : 'full run'} in ${minutes.toFixed(1)} min; load average ${endLoad.join(' ')} at the end (other processes share these ${cpu.cores} cores)`,
);
if (inference.length) printInference(inference, sizes);
if (lora.length) printLora(lora);
console.log(
  JSON.stringify({
    bench: 'real-models',
    cpu,
    loadAverage: { start: startLoad, end: endLoad },
    minutes,
    quick,
    seed,
    sizes,
    inference,
    lora,
  }),
);
