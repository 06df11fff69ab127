#!/usr/bin/env node
// Builds the native addon (build/Release/llmkit_cpu.node) with node-gyp; run by the package's
// `install` script, so `pnpm install` / `npm install` compile it from source.
//
// - Offline-safe: when npm's `nodedir` is not configured, points node-gyp at the headers that
//   ship with this Node (<prefix>/include/node) instead of downloading them.
// - Incremental: a configured build/ is rebuilt with `node-gyp build` (make tracks changes).
// - Soft failure: a machine without a C++ compiler still installs the workspace; the backend then
//   says why it cannot load and core-tensor keeps using `js`. Set LLMKIT_CPU_REQUIRE_BUILD=1 to
//   make a failed build fail the install (CI does, through the package's tests).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = dirname(dirname(process.execPath));

function nodeGypCommand() {
  // pnpm and npm put their bundled node-gyp on PATH for lifecycle scripts; outside them, use
  // the one bundled with npm next to this Node.
  const probe = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  if (probe.status === 0) return ['node-gyp'];
  const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin');
  return [process.execPath, join(bundled, 'node-gyp.js')];
}

const args = [existsSync(join(packageRoot, 'build', 'Makefile')) ? 'build' : 'rebuild', '-j', '2'];
const configured = process.env.npm_config_nodedir;
if (!configured && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const [command, ...head] = nodeGypCommand();
const result = spawnSync(command, [...head, ...args], { cwd: packageRoot, stdio: 'inherit' });
if (result.status !== 0) {
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
  console.warn(`@llmkit/backend-cpu: native addon not built (${why}); the cpu backend is off.`);
  if (process.env.LLMKIT_CPU_REQUIRE_BUILD === '1') process.exit(1);
}
