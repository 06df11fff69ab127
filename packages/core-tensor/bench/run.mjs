#!/usr/bin/env node
// `pnpm bench core-tensor`: matmul GFLOP/s at 256/512/1024 and an MLP training step on the js
// reference backend, beside PyTorch (/usr/bin/python3, one thread) run in the same process tree.
// Prints a table, one JSON line, the machine and the ratios.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as t from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const config = {
  sizes: [256, 512, 1024],
  repeats: quick ? 1 : 3,
  mlp: [64, 256, 512, 10],
  steps: quick ? 5 : 20,
};

function bestSeconds(fn, repeats) {
  fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return best;
}

const js = { matmul: {}, mlpStepMs: 0 };
for (const n of config.sizes) {
  const a = t.randn([n, n]);
  const b = t.randn([n, n]);
  const seconds = bestSeconds(
    () => t.matmul(a, b).dispose(),
    n >= 1024 ? Math.min(2, config.repeats) : config.repeats,
  );
  js.matmul[n] = (2 * n ** 3) / seconds / 1e9;
  a.dispose();
  b.dispose();
}

const [batch, inputs, hidden, classes] = config.mlp;
t.manualSeed(0);
const model = new t.Sequential(
  new t.Linear(inputs, hidden),
  new t.Lambda((x) => x.gelu()),
  new t.Linear(hidden, classes),
);
const optimizer = new t.AdamW(model.parameters(), { lr: 1e-3 });
const x = t.randn([batch, inputs]);
const y = t.randint(0, classes, [batch]);
const step = () =>
  t.tidy(() => {
    optimizer.zeroGrad();
    t.crossEntropy(model.forward(x), y).backward();
    optimizer.step();
  });
for (let i = 0; i < 3; i++) step();
const start = process.hrtime.bigint();
for (let i = 0; i < config.steps; i++) step();
js.mlpStepMs = Number(process.hrtime.bigint() - start) / 1e6 / config.steps;

const python = spawnSync(
  '/usr/bin/python3',
  [join(here, 'torch_bench.py'), JSON.stringify(config)],
  { encoding: 'utf8' },
);
const torch = python.status === 0 ? JSON.parse(python.stdout.trim().split('\n').pop()) : null;
if (!torch) console.error(`PyTorch peer failed: ${python.stderr || python.error}`);

const cpu =
  (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ??
  cpus()[0]?.model ??
  'unknown';
const load = loadavg()[0];
const machine = `${cpu}, ${cpus().length} cores, Node ${process.version}${torch ? `, torch ${torch.torch} (1 thread)` : ''}, load average ${load.toFixed(1)}`;
const rows = [
  ...config.sizes.map((n) => [
    `matmul ${n}x${n}x${n} (GFLOP/s)`,
    js.matmul[n],
    torch?.matmul[n],
    torch ? js.matmul[n] / torch.matmul[n] : null,
  ]),
  [
    `MLP step ${config.mlp.join('-')} AdamW (ms)`,
    js.mlpStepMs,
    torch?.mlpStepMs,
    torch ? torch.mlpStepMs / js.mlpStepMs : null,
  ],
];
const fmt = (v, digits = 2) => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));
console.log(`core-tensor js backend vs PyTorch on ${machine}`);
console.log('| benchmark | js | PyTorch | js / PyTorch (speed) |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, a, b, ratio] of rows)
  console.log(`| ${name} | ${fmt(a)} | ${fmt(b)} | ${fmt(ratio, 3)} |`);
if (load > cpus().length)
  console.log(
    `note: load average ${load.toFixed(1)} on ${cpus().length} cores; the machine is shared and both columns are depressed and noisy`,
  );
console.log(
  JSON.stringify({ benchmark: 'core-tensor', machine, loadAverage: load, config, js, torch }),
);
