#!/usr/bin/env node
// `pnpm bench backend-cpu [--quick] [--only gemm|gpt|half|quantized]`: the native CPU backend beside PyTorch
// (Debian's python3-torch with OpenBLAS, torch.set_num_threads(1): OpenBLAS threads itself), in
// the same run, interleaved so both sides see the same machine load:
//   1. sgemm GFLOP/s at 256..2048 and on the (transposed) shapes of a nanoGPT training step, on
//      the best ISA path and on forced AVX2 (when the best is higher) side by side;
//   2. one training step (forward, backward, AdamW) of nanoGPT's small CPU config in ms/step on
//      the same paths, with a per-kernel profile of the llmkit step on the best one;
//   3. bf16 / fp16 weights (quantizedMatmul) against float32 ones on real models' Linear shapes,
//      decoding (M = 1, GB/s) and prefill / training GEMMs, at 1 and 2 threads (half.mjs);
//   4. q8_0 / q4_0 weights with 8-bit activations beside float32 and bf16 at M = 1, 32, 512, and
//      the Linear layers of a Qwen3-0.6B prefill of 32 tokens (quantized.mjs).
// Prints the machine, tables with ratios, and one JSON line.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as t from '@llmkit/core-tensor';
import { registerBackend } from '@llmkit/core-tensor/backend';
import {
  cpuBackendInfo,
  createCpuBackend,
  int8Isa,
  nativeKernels,
  setCpuIsa,
  setCpuThreads,
} from '../dist/index.js';
import { openblasCoreType } from '../../../bench/openblas.mjs';
import { timeTrainingStep } from './gpt.mjs';
import { benchHalfWeights } from './half.mjs';
import { benchQuantizedWeights } from './quantized.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const shapes = JSON.parse(readFileSync(join(here, 'shapes.json'), 'utf8'));

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const flags = /flags\s*:\s*(.*)/.exec(cpuinfo)?.[1].split(' ') ?? [];
  const simd = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx_vnni']
    .concat(['avx512_bf16', 'amx_tile', 'asimd'])
    .filter((f) => flags.includes(f))
    .join(' ');
  return { cpu: model, simd, cores: os.availableParallelism(), load: os.loadavg()[0] };
}

const coreType = openblasCoreType();

function torch(part, threads = 1) {
  const result = spawnSync(
    '/usr/bin/python3',
    [
      join(here, 'torch_bench.py'),
      '--only',
      part,
      '--threads',
      String(threads),
      ...(quick ? ['--quick'] : []),
    ],
    // OpenBLAS takes its thread count from the environment (torch.set_num_threads does not reach it)
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        OPENBLAS_NUM_THREADS: String(threads),
        ...(coreType ? { OPENBLAS_CORETYPE: coreType } : {}),
      },
    },
  );
  if (result.status !== 0) {
    console.error(
      `PyTorch side failed: ${(result.stderr || result.error?.message || '').trim().split('\n').pop()}`,
    );
    return undefined;
  }
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

/** Best seconds of `run` over up to `repeats` calls within `budget` seconds, after a warm-up. */
function bestSeconds(run, repeats, budget) {
  run();
  let best = Number.POSITIVE_INFINITY;
  const start = performance.now();
  for (let i = 0; i < repeats; i++) {
    const began = performance.now();
    run();
    best = Math.min(best, (performance.now() - began) / 1e3);
    if (performance.now() - start > budget * 1e3) break;
  }
  return best;
}

function gemmGflops(native, { m, n, k, transposeA = false, transposeB = false, batch = 1 }) {
  const a = Float32Array.from({ length: m * k * batch }, Math.random);
  const b = Float32Array.from({ length: k * n * batch }, Math.random);
  const c = new Float32Array(m * n * batch);
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const run = () =>
    native.gemm(
      transposeA,
      transposeB,
      m,
      n,
      k,
      1,
      a,
      0,
      lda,
      m * k,
      b,
      0,
      ldb,
      k * n,
      0,
      c,
      0,
      n,
      m * n,
      batch,
    );
  return (2 * m * n * k * batch) / bestSeconds(run, quick ? 5 : 30, quick ? 0.5 : 2) / 1e9;
}

const ratio = (ours, theirs) => (ours && theirs ? (ours / theirs).toFixed(2) : 'n/a');
const fixed = (value, digits = 1) => (value === undefined ? 'n/a' : value.toFixed(digits));

const info = cpuBackendInfo();
if (!info.available) {
  console.error(`backend-cpu: ${info.reason}`);
  process.exit(1);
}
const native = nativeKernels();
const report = { machine: machine(), backend: info };
// The paths compared: the one in use (the best, or LLMKIT_CPU_ISA's) and AVX2 below it.
const paths = [info.isa];
if (info.isa !== 'avx2' && info.supported.includes('avx2')) paths.push('avx2');
report.paths = paths;
report.openblasCoreType = coreType;
console.log(
  `Machine: ${report.machine.cpu} (${report.machine.simd}), ${report.machine.cores} cores, load ${report.machine.load.toFixed(2)}`,
);
console.log(
  `llmkit cpu: ${info.isa} kernels (supported: ${info.supported.join(', ')}; int8: ${int8Isa()}), ${info.threads} threads; PyTorch: /usr/bin/python3, torch.set_num_threads(1), OpenBLAS ${coreType ?? 'n/a'} kernels`,
);
console.log(
  'Other engineers share this CPU: every figure is the best of several repeats, and ratios come from the same run.\n',
);

if (only === undefined || only === 'gemm') {
  const peer = torch('gemm');
  const cases = [
    ...shapes.square.map((size) => ({
      shape: `${size}x${size}x${size} NN`,
      args: { m: size, n: size, k: size },
      torch: peer?.square[String(size)],
    })),
    ...shapes.training.map((c) => ({
      shape: `${c.name} (${c.m}x${c.n}x${c.k})`,
      args: c,
      torch: peer?.training[c.name],
    })),
  ];
  const rows = cases.map(({ shape, args, torch: theirs }) => {
    const ours = {};
    for (const isa of paths) {
      setCpuIsa(isa);
      ours[isa] = gemmGflops(native, args);
    }
    return { shape, ours, torch: theirs };
  });
  setCpuIsa('default');
  console.log('sgemm GFLOP/s (best of repeats)');
  const head = paths.map((isa) => `llmkit ${isa}`.padStart(13)).join(' | ');
  const ratios = paths.map((isa) => `ratio ${isa}`.padStart(12)).join(' | ');
  console.log(`| ${'shape (M x N x K)'.padEnd(44)} | ${head} | PyTorch | ${ratios} |`);
  console.log(
    `| ${'-'.repeat(44)} | ${paths.map(() => '-'.repeat(13)).join(' | ')} | ------- | ${paths.map(() => '-'.repeat(12)).join(' | ')} |`,
  );
  for (const r of rows) {
    const ours = paths.map((isa) => fixed(r.ours[isa]).padStart(13)).join(' | ');
    const ratio_ = paths.map((isa) => ratio(r.ours[isa], r.torch).padStart(12)).join(' | ');
    console.log(`| ${r.shape.padEnd(44)} | ${ours} | ${fixed(r.torch).padStart(7)} | ${ratio_} |`);
  }
  console.log('');
  report.gemm = rows;
}

if (only === undefined || only === 'gpt') {
  const peer = torch('gpt');
  const backend = createCpuBackend({ profile: true });
  registerBackend('cpu', () => backend, 20);
  await t.setBackend('cpu');
  const steps = quick ? 8 : 100;
  // Each path in turn on the same backend; the profile is the first (best) path's.
  const results = {};
  let profile = [];
  for (const isa of paths) {
    setCpuIsa(isa);
    results[isa] = timeTrainingStep({ steps, profile: (reset) => backend.profile(reset) });
    if (isa === paths[0]) profile = backend.profile();
  }
  setCpuIsa('default');
  const ours = results[paths[0]];
  const theirs = peer?.gpt;
  console.log(
    'nanoGPT small CPU config (4 layers, 4 heads, 128 embedding, block 64, batch 12, vocab 65, AdamW): ms per training step',
  );
  const line = (label, pick, digits = 1) => {
    const cells = paths.map((isa) => fixed(pick(results[isa]), digits).padStart(13)).join(' | ');
    const ratios = paths
      .map((isa) =>
        (digits === 1 ? ratio(pick(results[isa]), pick(theirs ?? {})) : '').padStart(12),
      )
      .join(' | ');
    console.log(
      `| ${label.padEnd(20)} | ${cells} | ${fixed(theirs && pick(theirs), digits).padStart(7)} | ${ratios} |`,
    );
  };
  console.log(
    `|                      | ${paths.map((isa) => `llmkit ${isa}`.padStart(13)).join(' | ')} | PyTorch | ${paths.map((isa) => `ratio ${isa}`.padStart(12)).join(' | ')} |`,
  );
  console.log(
    `| -------------------- | ${paths.map(() => '-'.repeat(13)).join(' | ')} | ------- | ${paths.map(() => '-'.repeat(12)).join(' | ')} |`,
  );
  line('median ms/step', (r) => r.medianMs);
  line('best ms/step', (r) => r.bestMs);
  line('first loss', (r) => r.firstLoss, 3);
  console.log(`parameters: ${ours.parameters} (PyTorch ${theirs?.parameters ?? 'n/a'})`);
  console.log('\nWhere an llmkit step goes (ms per step, kernels run natively unless marked js):');
  const total = profile.reduce((sum, p) => sum + p.milliseconds, 0) / steps;
  for (const p of profile.slice(0, 14)) {
    console.log(
      `  ${p.kernel.padEnd(26)} ${(p.milliseconds / steps).toFixed(2).padStart(7)} ms  ${String(Math.round(p.calls / steps)).padStart(4)} calls`,
    );
  }
  console.log(
    `  ${'all kernels'.padEnd(26)} ${total.toFixed(2).padStart(7)} ms of a mean ${fixed(ours.meanMs)} ms step; the rest is JavaScript (autograd, views, allocation)`,
  );
  report.gpt = {
    llmkit: ours,
    byPath: results,
    pytorch: theirs,
    profile: profile.map((p) => ({
      ...p,
      milliseconds: p.milliseconds / steps,
      calls: p.calls / steps,
    })),
  };
}

if (only === undefined || only === 'half') {
  const threadsBefore = info.threads;
  console.log(
    `16-bit weights on the ${info.isa} path; PyTorch: float32 F.linear with OpenBLAS on the same thread count`,
  );
  report.half = benchHalfWeights({
    native,
    spec: shapes.halfWeights,
    setThreads: setCpuThreads,
    torch: (threads) => torch('half', threads)?.half,
    quick,
  });
  setCpuThreads(threadsBefore);
}

if (only === undefined || only === 'quantized') {
  const threadsBefore = info.threads;
  console.log(`Packed q8_0 / q4_0 weights on the ${info.isa} path (int8: ${int8Isa()})`);
  report.quantized = benchQuantizedWeights({
    native,
    spec: shapes.quantizedWeights,
    setThreads: setCpuThreads,
    quick,
  });
  setCpuThreads(threadsBefore);
}

report.machine.loadAfter = os.loadavg()[0];
console.log(`\nload average after: ${report.machine.loadAfter.toFixed(2)}`);
console.log(JSON.stringify(report));
