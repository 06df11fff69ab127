#!/usr/bin/env node
// `pnpm bench backend-gpu [--device] [--gemm=256,512] [--train=tiny] [--seconds=1]`
// float32 GEMM (GFLOP/s) and GPT training steps (ms/step) on the webgpu backend, beside PyTorch
// (bench/peer.py) on the same machine: CUDA when PyTorch sees a GPU, else the CPU. Without
// --device it uses sizes that finish on Mesa's software OpenGL ES (no GPU); --device uses the
// issue's sizes (GEMM 1024-8192, nanoGPT Shakespeare and GPT-2 124M training steps).
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWebGpuBackend } from '@llmkit/backend-gpu';
import { AdamW, manualSeed, randint, randn, setBackend, tidy } from '@llmkit/core-tensor';
import { registerBackend } from '@llmkit/core-tensor/backend';
import { Gpt } from './gpt.mjs';

const CONFIGS = {
  tiny: { layers: 2, heads: 2, embd: 64, block: 32, batch: 4, vocab: 256 },
  shakespeare: { layers: 6, heads: 6, embd: 384, block: 256, batch: 64, vocab: 65 },
  gpt2: { layers: 12, heads: 12, embd: 768, block: 1024, batch: 8, vocab: 50257 },
};

const flags = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const onDevice = flags.device === 'true';
const gemmSizes = (flags.gemm ?? (onDevice ? '1024,2048,4096,8192' : '128,256,512'))
  .split(',')
  .filter(Boolean)
  .map(Number);
const trainNames = (flags.train ?? (onDevice ? 'shakespeare,gpt2' : 'tiny'))
  .split(',')
  .filter(Boolean);
const seconds = Number(flags.seconds ?? (onDevice ? 2 : 1));
const python = flags.python ?? '/usr/bin/python3';

const backend = await createWebGpuBackend({ debug: false });
registerBackend('webgpu', () => backend, 30);
await setBackend('webgpu');

/** Runs `body(k)` with growing k until it takes `seconds`; returns seconds per call. */
async function timed(body) {
  await body(1); // compile pipelines, fill the buffer pool
  let k = 1;
  for (;;) {
    const start = performance.now();
    await body(k);
    const elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds || k >= 1000) return elapsed / k;
    k = Math.max(k + 1, Math.ceil((k * seconds * 1.2) / Math.max(elapsed, 1e-3)));
  }
}

const gemm = {};
for (const n of gemmSizes) {
  manualSeed(0);
  const a = randn([n, n]);
  const b = randn([n, n]);
  const perCall = await timed(async (k) => {
    for (let i = 0; i < k; i++) a.matmul(b).dispose();
    await backend.synchronize();
  });
  gemm[n] = (2 * n ** 3) / perCall / 1e9;
  a.dispose();
  b.dispose();
}

const train = {};
for (const name of trainNames) {
  const config = CONFIGS[name];
  manualSeed(0);
  const model = new Gpt(config);
  const optimizer = new AdamW(model.parameters(), { lr: 1e-4 });
  const ids = randint(0, config.vocab, [config.batch, config.block]);
  const targets = randint(0, config.vocab, [config.batch, config.block]);
  // Counted over the last (timed) call only: the first one compiles the pipelines.
  let encodeSeconds = 0;
  let before = { ...backend.counters };
  let steps = 0;
  const perStep = await timed(async (k) => {
    encodeSeconds = 0;
    steps = 0;
    before = { ...backend.counters };
    let loss;
    for (let i = 0; i < k; i++) {
      loss?.dispose();
      const start = performance.now();
      loss = tidy(() => {
        optimizer.zeroGrad();
        const value = model.loss(ids, targets);
        value.backward();
        optimizer.step();
        return value;
      });
      encodeSeconds += (performance.now() - start) / 1000;
      steps++;
    }
    await loss.data();
    loss.dispose();
  });
  train[name] = {
    msPerStep: perStep * 1000,
    encodeMsPerStep: (encodeSeconds / steps) * 1000,
    dispatchesPerStep: Math.round((backend.counters.dispatches - before.dispatches) / steps),
    submitsPerStep: Number(((backend.counters.submits - before.submits) / steps).toFixed(1)),
  };
  model.dispose();
  optimizer.zeroGrad?.();
}

// The PyTorch peer, same sizes; on a GPU twice (TF32 off, the float32 default, then on).
const peerArgs = {
  gemm: gemmSizes,
  train: Object.fromEntries(trainNames.map((n) => [n, CONFIGS[n]])),
  seconds,
  threads: cpus().length,
};
const runPeer = (tf32) => {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peer.py');
  const result = spawnSync(python, [script, JSON.stringify({ ...peerArgs, tf32 })], {
    encoding: 'utf8',
  });
  if (result.status !== 0)
    return { error: (result.stderr || result.error?.message || 'failed').trim().split('\n').pop() };
  return JSON.parse(result.stdout.trim().split('\n').pop());
};
const torch = runPeer(false);
const torchTf32 = torch.device && torch.device !== 'cpu' ? runPeer(true) : undefined;

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
console.log(`webgpu adapter: ${backend.adapterDescription}`);
console.log(`PyTorch ${torch.torch ?? '?'} on ${torch.device ?? torch.error}`);
console.log('');
const pad = (s, n) => String(s).padStart(n);
const fmt = (x) =>
  x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
console.log(
  `${'GEMM n'.padEnd(8)}${pad('webgpu GFLOP/s', 16)}${pad('torch fp32', 12)}${pad('ratio', 8)}${torchTf32 ? pad('torch tf32', 12) : ''}`,
);
for (const n of gemmSizes) {
  const t = torch.gemm?.[n];
  console.log(
    `${String(n).padEnd(8)}${pad(fmt(gemm[n]), 16)}${pad(fmt(t), 12)}${pad(t ? fmt(gemm[n] / t) : '-', 8)}${torchTf32 ? pad(fmt(torchTf32.gemm?.[n]), 12) : ''}`,
  );
}
console.log('');
console.log(
  `${'train step'.padEnd(12)}${pad('webgpu ms', 11)}${pad('encode ms', 11)}${pad('launches', 10)}${pad('submits', 9)}${pad('torch ms', 10)}${pad('ratio', 8)}`,
);
for (const name of trainNames) {
  const r = train[name];
  const t = torch.train?.[name];
  console.log(
    `${name.padEnd(12)}${pad(fmt(r.msPerStep), 11)}${pad(fmt(r.encodeMsPerStep), 11)}${pad(r.dispatchesPerStep, 10)}${pad(r.submitsPerStep, 9)}${pad(fmt(t), 10)}${pad(t ? fmt(t / r.msPerStep) : '-', 8)}`,
  );
}
console.log('(ratio = PyTorch time / webgpu time, or webgpu / PyTorch throughput: 1 = parity)');
console.log(
  JSON.stringify({
    benchmark: 'backend-gpu',
    machine: { cpu, cores: cpus().length },
    adapter: backend.adapterDescription,
    gemmGflops: gemm,
    train,
    configs: Object.fromEntries(trainNames.map((n) => [n, CONFIGS[n]])),
    torch,
    torchTf32,
  }),
);
backend.destroy();
