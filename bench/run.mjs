#!/usr/bin/env node
// `pnpm bench <name> [args]`: runs bench/<name>/run.mjs (benchmarks across packages) or
// packages/<name>/bench/run.mjs after building the workspace. Each benchmark prints a table and
// one JSON line, runs its peer in the same run and states the machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
const benches = new Map();
for (const folder of ['bench', 'packages']) {
  for (const entry of readdirSync(join(root, folder), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const script =
      folder === 'bench'
        ? join(root, folder, entry.name, 'run.mjs')
        : join(root, folder, entry.name, 'bench', 'run.mjs');
    if (existsSync(script) && !benches.has(entry.name)) benches.set(entry.name, script);
  }
}
if (!name || !benches.has(name)) {
  console.error(`usage: pnpm bench <name> [args]; benchmarks: ${[...benches.keys()].join(', ')}`);
  process.exit(name ? 1 : 0);
}
const run = (command, commandArgs) => {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
// everything is built (turbo caches): some benchmarks drive the CLI or another package
run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
run(process.execPath, [benches.get(name), ...args]);
