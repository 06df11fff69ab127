#!/usr/bin/env node
// `pnpm bench <package> [args]`: runs packages/<package>/bench/run.mjs after building the
// workspace. Each benchmark prints a table and one JSON line, runs its peer in the same run and
// states the machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(join(root, 'packages')).filter((p) =>
  existsSync(join(root, 'packages', p, 'bench', 'run.mjs')),
);
if (!name || !available.includes(name)) {
  console.error(
    `usage: pnpm bench <package> [args]; packages with benchmarks: ${available.join(', ')}`,
  );
  process.exit(name ? 1 : 0);
}
const run = (command, commandArgs) => {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
// everything is built (turbo caches): some benchmarks drive the CLI or another package
run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']);
run(process.execPath, [join(root, 'packages', name, 'bench', 'run.mjs'), ...args]);
