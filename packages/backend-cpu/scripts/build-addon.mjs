#!/usr/bin/env node
// The package's `install` script: makes sure an addon this machine can load is present.
//
// 1. A prebuilt binary in prebuilds/<platform>-<arch>/ (see src/prebuild.ts) that fits this
//    platform, arch, libc and Node-API version and loads: nothing to do.
// 2. Otherwise compile from source with node-gyp into build/Release/llmkit_cpu.node, offline
//    (this Node's own headers), quietly: node-gyp's output goes to build/install.log.
// 3. When that fails too (no compiler, no python3, no make), the install still succeeds: one
//    warning here, and at run time `@llmkit/backend-cpu/register` says why and core-tensor keeps
//    its js backend. LLMKIT_CPU_REQUIRE_BUILD=1 makes a failed build fail the install (CI).
//
// A checkout that was compiled before (build/Makefile exists) is rebuilt incrementally, so the
// workspace always runs the kernels of its sources; LLMKIT_CPU_BUILD_FROM_SOURCE=1 skips step 1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeGypCommand, nodeHeadersDir } from './node-gyp.mjs';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const configured = existsSync(join(packageRoot, 'build', 'Makefile'));

/** The prebuild that fits and loads here, or a reason why there is none. */
async function usablePrebuild() {
  const selector = join(packageRoot, 'dist', 'prebuild.js');
  if (!existsSync(selector)) return { reason: 'dist/ is not built' };
  const { findPrebuild } = await import(pathToFileURL(selector).href);
  const found = findPrebuild(packageRoot, 'llmkit_cpu');
  if (!found.path) return found;
  try {
    createRequire(import.meta.url)(found.path);
    return found;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { reason: `${found.path} does not load here: ${message}` };
  }
}

let prebuild = { reason: 'skipped: LLMKIT_CPU_BUILD_FROM_SOURCE=1' };
if (!configured && process.env.LLMKIT_CPU_BUILD_FROM_SOURCE !== '1') {
  prebuild = await usablePrebuild();
  if (prebuild.path) process.exit(0);
}

const args = [configured ? 'build' : 'rebuild', '-j', '2'];
const headers = nodeHeadersDir();
if (headers && !process.env.npm_config_nodedir) args.push(`--nodedir=${headers}`);
const [command, ...head] = nodeGypCommand();
const result = spawnSync(command, [...head, ...args], { cwd: packageRoot, encoding: 'utf8' });
const log = join(packageRoot, 'build', 'install.log');
mkdirSync(dirname(log), { recursive: true });
writeFileSync(log, `${result.error ?? ''}${result.stdout ?? ''}${result.stderr ?? ''}`);
if (result.status !== 0) {
  const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
  console.warn(
    `@llmkit/backend-cpu: no usable prebuilt addon (${prebuild.reason}) and compiling it from source failed (${why}; see ${log}); the cpu backend is off and @llmkit/core-tensor uses its js backend.`,
  );
  if (process.env.LLMKIT_CPU_REQUIRE_BUILD === '1') {
    console.error(`${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-4000));
    process.exit(1);
  }
}
