#!/usr/bin/env node
// `pnpm bench sampling`: per-token overhead of @llmkit/sampling against Hugging Face's warpers in
// PyTorch (one thread), same run, same machine, vocabularies of 50,257 (GPT-2) and 200,019
// (o200k). Logits are seeded normal(0, 3); each measurement cycles over 8 logits arrays.
// Prints a table and one JSON line. Options: --quick (fewer iterations).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom, createSampler } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const GOAL_MICROSECONDS = 500;
const configs = {
  greedy: {},
  'topK 50 + topP 0.9': { doSample: true, topK: 50, topP: 0.9 },
  'T 0.8 + topK 50 + topP 0.9 + repetition 1.1': {
    doSample: true,
    temperature: 0.8,
    topK: 50,
    topP: 0.9,
    repetitionPenalty: 1.1,
  },
  'topK 50 + topP 0.9, peer sorts only the 50': { doSample: true, topK: 50, topP: 0.9 },
  'topP 0.9': { doSample: true, topP: 0.9 },
  'minP 0.05': { doSample: true, minP: 0.05 },
  'softmax + multinomial': { doSample: true },
};

function normalLogits(vocab, random) {
  const logits = new Float32Array(vocab);
  for (let i = 0; i < vocab; i += 2) {
    // Box-Muller: two normals from two uniforms.
    const radius = Math.sqrt(-2 * Math.log(1 - random.nextFloat()));
    const angle = 2 * Math.PI * random.nextFloat();
    logits[i] = 3 * radius * Math.cos(angle);
    if (i + 1 < vocab) logits[i + 1] = 3 * radius * Math.sin(angle);
  }
  return logits;
}

function measureOurs(vocab, iterations) {
  const random = createRandom(vocab);
  const logits = Array.from({ length: 8 }, () => normalLogits(vocab, random));
  const previous = Array.from({ length: 256 }, () => Math.floor(random.nextFloat() * vocab));
  const results = {};
  for (const [name, config] of Object.entries(configs)) {
    const sampler = createSampler({ ...config, seed: 1 });
    for (let i = 0; i < 50; i++) sampler.sample(logits[i % 8], previous);
    // CPU time of this process (not wall time: the machine is shared), best of three rounds.
    let best = Infinity;
    let wall = Infinity;
    for (let round = 0; round < 3; round++) {
      const start = process.hrtime.bigint();
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < iterations; i++) sampler.sample(logits[i % 8], previous);
      const cpu = process.cpuUsage(cpuStart);
      best = Math.min(best, (cpu.user + cpu.system) / iterations);
      wall = Math.min(wall, Number(process.hrtime.bigint() - start) / 1e3 / iterations);
    }
    results[name] = { cpu: best, wall };
  }
  return results;
}

function measurePeer(vocab, iterations) {
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { error: 'python3-torch is not installed; peer skipped' };
  const runs = [];
  for (let round = 0; round < 3; round++) {
    const run = spawnSync(python, [join(here, 'peer.py'), String(vocab), String(iterations)], {
      encoding: 'utf8',
    });
    if (run.status !== 0) return { error: run.stderr.trim().split('\n').pop() };
    runs.push(JSON.parse(run.stdout.trim().split('\n').pop()));
  }
  const microseconds = {};
  for (const name of Object.keys(runs[0].microseconds)) {
    microseconds[name] = {
      cpu: Math.min(...runs.map((run) => run.microseconds[name].cpu)),
      wall: Math.min(...runs.map((run) => run.microseconds[name].wall)),
    };
  }
  return { torch: runs[0].torch, microseconds };
}

const cpu = (() => {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1].trim() : cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model;
  }
})();
const machine = {
  cpu,
  cores: cpus().length,
  node: process.version,
  loadAverageBefore: loadavg()[0].toFixed(2),
};

const rows = [];
let torchVersion = null;
for (const vocab of [50257, 200019]) {
  const iterations = (vocab > 100000 ? 300 : 1000) / (quick ? 5 : 1);
  const ours = measureOurs(vocab, iterations);
  const peer = measurePeer(vocab, Math.max(20, iterations / 2));
  if (peer.torch) torchVersion = peer.torch;
  for (const name of Object.keys(configs)) {
    const theirs = peer.microseconds?.[name];
    rows.push({
      vocab,
      config: name,
      llmkitMicroseconds: Number(ours[name].cpu.toFixed(1)),
      llmkitWallMicroseconds: Number(ours[name].wall.toFixed(1)),
      pytorchMicroseconds: theirs === undefined ? null : Number(theirs.cpu.toFixed(1)),
      pytorchWallMicroseconds: theirs === undefined ? null : Number(theirs.wall.toFixed(1)),
      speedup: theirs === undefined ? null : Number((theirs.cpu / ours[name].cpu).toFixed(2)),
    });
  }
  if (peer.error) console.error(`peer: ${peer.error}`);
}
machine.loadAverageAfter = loadavg()[0].toFixed(2);

console.log(
  `@llmkit/sampling per-token overhead; ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ` +
    `PyTorch ${torchVersion ?? 'n/a'} (1 thread); load average ${machine.loadAverageBefore} -> ${machine.loadAverageAfter}`,
);
console.log('best of 3 rounds; logits normal(0, 3); goal: topK 50 + topP 0.9 under 500 us\n');
console.log(
  '| vocabulary | config | llmkit (us/token) | PyTorch HF-style (us/token) | PyTorch / llmkit |',
);
console.log('| ---: | --- | ---: | ---: | ---: |');
for (const row of rows) {
  const goal =
    row.config === 'topK 50 + topP 0.9'
      ? row.llmkitMicroseconds < GOAL_MICROSECONDS
        ? ' (goal met on CPU time)'
        : ' (goal missed)'
      : '';
  console.log(
    `| ${row.vocab.toLocaleString('en-US')} | ${row.config} | ${row.llmkitMicroseconds} (${row.llmkitWallMicroseconds})${goal} | ${row.pytorchMicroseconds ?? 'n/a'} (${row.pytorchWallMicroseconds ?? 'n/a'}) | ${row.speedup === null ? 'n/a' : `${row.speedup}x`} |`,
  );
}
console.log(
  JSON.stringify({
    benchmark: 'sampling',
    machine,
    torch: torchVersion,
    goalMicroseconds: GOAL_MICROSECONDS,
    rows,
  }),
);
