#!/usr/bin/env node
// pnpm bench trainer [--max-iters N] [--data FILE] [--seeds N]
// nanoGPT's small Shakespeare character config trained for N steps (default 2,000) by
// `llmkit train --preset shakespeare-char --json` and by the same model in PyTorch
// (nanogpt_shakespeare.py: Debian torch + OpenBLAS, one torch thread), taking turns seed by seed
// (seeds 1337, 1338, ...). Reports validation loss (nanoGPT's 20-batch estimate, and the whole
// validation split from `llmkit eval`), median ms per step (evaluation excluded), tokens/s and
// peak memory of each, and the ratio llmkit / PyTorch. Goal: val loss <= 1.89 and <= 0.8x
// ms/step. The 20-batch estimate moves by about 0.02 from seed to seed; --seeds 3 averages.
// Then the fine-tuning worked examples (skip with --skip-examples): sentiment accuracy and
// numbers-to-words exact match.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    'max-iters': { type: 'string', default: '2000' },
    data: { type: 'string', default: join(here, '../../../../shared/data/tinyshakespeare.txt') },
    'skip-examples': { type: 'boolean', default: false },
    seeds: { type: 'string', default: '1' },
  },
});
const maxIters = values['max-iters'];
if (!existsSync(values.data)) {
  console.log(
    `skipped: ${values.data} is absent (the benchmark needs Tiny Shakespeare from ../shared/data)`,
  );
  process.exit(0);
}
const lastJson = (stdout) => JSON.parse(stdout.trim().split('\n').at(-1));
const run = (command, args) => {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return lastJson(result.stdout);
};

const load = loadavg()[0];
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => 1337 + i);
const cli = join(here, '../../../apps/demo/dist/cli.js');
const runs = { llmkit: [], torch: [] };
for (const seed of seeds) {
  const out = mkdtempSync(join(tmpdir(), 'llmkit-bench-trainer-'));
  const trained = run(process.execPath, [
    cli,
    ...['train', '--data', values.data, '--preset', 'shakespeare-char'],
    ...['--max-steps', maxIters, '--seed', String(seed), '--out', out, '--json'],
  ]);
  // The whole validation split, every token predicted once (nanoGPT's figure is 20 random batches).
  const evaluated = run(process.execPath, [cli, 'eval', '--checkpoint', out, '--json']);
  runs.llmkit.push({ ...trained, val_loss_full: evaluated.loss });
  rmSync(out, { recursive: true, force: true });
  runs.torch.push(
    run('/usr/bin/python3', [
      join(here, 'nanogpt_shakespeare.py'),
      values.data,
      maxIters,
      String(seed),
    ]),
  );
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (list) => ({
  seeds,
  val_loss: mean(list.map((r) => r.val_loss)),
  val_loss_full: mean(list.map((r) => r.val_loss_full)),
  train_loss: mean(list.map((r) => r.train_loss)),
  ms_per_step: median(list.map((r) => r.ms_per_step)),
  tokens_per_s: median(list.map((r) => r.tokens_per_s)),
  peak_rss_mb: Math.max(...list.map((r) => r.peak_rss_mb)),
  runs: list,
});
const llmkit = summary(runs.llmkit);
const torch = summary(runs.torch);

const rows = [
  ['', 'llmkit (cpu)', 'PyTorch', 'llmkit / PyTorch'],
  [
    'validation loss (20 batches)',
    llmkit.val_loss.toFixed(4),
    torch.val_loss.toFixed(4),
    (llmkit.val_loss / torch.val_loss).toFixed(3),
  ],
  [
    'validation loss (whole split)',
    llmkit.val_loss_full.toFixed(4),
    torch.val_loss_full.toFixed(4),
    (llmkit.val_loss_full / torch.val_loss_full).toFixed(3),
  ],
  ['train loss', llmkit.train_loss.toFixed(4), torch.train_loss.toFixed(4), ''],
  [
    'ms / step (median)',
    llmkit.ms_per_step.toFixed(1),
    torch.ms_per_step.toFixed(1),
    `${(llmkit.ms_per_step / torch.ms_per_step).toFixed(2)}x`,
  ],
  ['tokens / s', llmkit.tokens_per_s.toFixed(0), torch.tokens_per_s.toFixed(0), ''],
  ['peak RSS MB', llmkit.peak_rss_mb.toFixed(0), torch.peak_rss_mb.toFixed(0), ''],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(
  `machine: ${cpus()[0]?.model}, ${cpus().length} cores, load average ${load.toFixed(2)} at start; ${maxIters} iterations; seeds ${seeds.join(', ')} (losses are means over seeds, ms/step the median)`,
);
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`);
  if (i === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
}
// The fine-tuning worked examples (packages/trainer/examples), each printing one JSON line.
const examples = {};
if (!values['skip-examples']) {
  for (const name of ['sentiment', 'numbers-to-words']) {
    examples[name] = run(process.execPath, [join(here, '..', 'examples', `${name}.mjs`)]);
  }
  const { sentiment, 'numbers-to-words': numbers } = examples;
  console.log('\nfine-tuning worked examples (default arguments):');
  console.log('| example | held-out result | ms / step |');
  console.log('| --- | --- | --- |');
  console.log(
    `| sentiment classification (encoder, ${sentiment.steps} steps) | accuracy ${(100 * sentiment.heldOutAccuracy).toFixed(1)}% | ${sentiment.msPerStep.toFixed(1)} |`,
  );
  console.log(
    `| numbers to words (encoder-decoder, ${numbers.steps} steps) | exact match ${(100 * numbers.exactMatch).toFixed(1)}% | ${numbers.msPerStep.toFixed(1)} |`,
  );
}
console.log(
  JSON.stringify({
    benchmark: 'trainer',
    iters: Number(maxIters),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, load },
    llmkit,
    pytorch: torch,
    ratio_ms_per_step: llmkit.ms_per_step / torch.ms_per_step,
    examples,
  }),
);
