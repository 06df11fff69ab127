#!/usr/bin/env node
// Builds the prebuilt addons that ship inside the package: prebuilds/linux-x64/ natively and
// prebuilds/linux-arm64/ with Debian's cross compiler (g++-aarch64-linux-gnu), both from the
// sources, by running node-gyp on a copy of the package (so build/ of a workspace checkout is left
// alone) with whatever targets binding.gyp defines. Run by `prepack` and by src/prebuild.test.ts;
// the binaries are not committed to git (see the README).
//
//   node scripts/prebuild.mjs [--target linux-x64,linux-arm64] [--out prebuilds] [--strict] [--force]
//
// --strict fails when a target's toolchain is missing (prepack: a published package never lacks a
// prebuild silently); otherwise that target is skipped with a warning. A target whose sources,
// compiler and Node headers are unchanged since its last build (a hash in <name>.json) is reused
// unless --force. Every prebuild in the output folder is then checked, built or reused:
// - ELF machine and `napi_register_module_v1` exported (readelf);
// - native arch: it loads in a fresh Node and exports the kernels;
// - native arch, and arm64 under qemu-user when an arm64 Node is at hand (scripts/node-sysroot.sh
//   makes one from Debian's packages): it loads in that Node and runs a GEMM and a softmax right;
// - otherwise arm64 is dlopen()ed under qemu-user by a small C driver (libs and relocations
//   resolve, module init is not run).
// Last line of output: one JSON object with the results.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileAtomicSync } from '@llmkit/utils';
import { nodeGypCommand, nodeHeadersDir } from './node-gyp.mjs';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What each target needs: node-gyp's arch, the GNU triple of its cross toolchain, readelf's name. */
const TARGETS = {
  'linux-x64': {
    arch: 'x64',
    triple: 'x86_64-linux-gnu',
    machine: 'Advanced Micro Devices X86-64',
    qemu: 'qemu-x86_64',
  },
  'linux-arm64': {
    arch: 'arm64',
    triple: 'aarch64-linux-gnu',
    machine: 'AArch64',
    qemu: 'qemu-aarch64',
  },
};

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: Object.keys(TARGETS).join(',') },
    out: { type: 'string', default: join(packageRoot, 'prebuilds') },
    strict: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
  },
});
const outRoot = resolve(values.out);
const targets = values.target.split(',').filter(Boolean);
for (const target of targets) {
  if (!TARGETS[target])
    fail(`unknown target ${target}; expected one of ${Object.keys(TARGETS).join(', ')}`);
}

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
}

function has(command) {
  return run(command, ['--version']).status === 0;
}

/** The C and C++ compilers for a target: the host's own for its arch, else `<triple>-gcc/g++`. */
function compilers(spec) {
  if (process.platform === 'linux' && process.arch === spec.arch) {
    return { CC: process.env.CC ?? 'gcc', CXX: process.env.CXX ?? 'g++', cross: false };
  }
  return { CC: `${spec.triple}-gcc`, CXX: `${spec.triple}-g++`, cross: true };
}

/** Every file the build reads, relative to the package root: binding.gyp and src/ minus TypeScript. */
function sourceFiles(dir = 'src') {
  const files = [];
  for (const entry of readdirSync(join(packageRoot, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (!/\.(ts|md|json)$/.test(entry.name)) files.push(path);
  }
  return dir === 'src' ? ['binding.gyp', ...files.sort()] : files;
}

/** The Node-API version the addon is compiled for: binding.gyp's NAPI_VERSION, else the headers' default. */
function napiVersion(headersDir) {
  const gyp = /NAPI_VERSION=(\d+)/.exec(readFileSync(join(packageRoot, 'binding.gyp'), 'utf8'));
  if (gyp) return Number(gyp[1]);
  const header = join(
    headersDir ?? join(process.execPath, '..', '..'),
    'include',
    'node',
    'js_native_api.h',
  );
  const match =
    existsSync(header) && /#define NAPI_VERSION (\d+)/.exec(readFileSync(header, 'utf8'));
  if (!match) fail(`cannot tell the Node-API version: no NAPI_VERSION in binding.gyp or ${header}`);
  return Number(match[1]);
}

/** Highest symbol version of `prefix` (GLIBC_, GLIBCXX_) the shared object needs. */
function highestVersion(symbols, prefix) {
  const versions = [...symbols.matchAll(new RegExp(`${prefix}_([0-9.]+)`, 'g'))].map((m) => m[1]);
  const key = (v) => v.split('.').map(Number);
  versions.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++)
      if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  });
  return versions.at(-1);
}

/**
 * A root folder with an `<arch>` Node (`usr/bin/node` and its libraries) for qemu-user, when
 * present: LLMKIT_PREBUILD_NODE_SYSROOT_<ARCH>, else ~/.cache/llmkit/node-<arch> (made by
 * scripts/node-sysroot.sh from Debian's packages).
 */
function nodeSysroot(spec) {
  const folder =
    process.env[`LLMKIT_PREBUILD_NODE_SYSROOT_${spec.arch.toUpperCase()}`] ??
    join(homedir(), '.cache', 'llmkit', `node-${spec.arch}`);
  return has(spec.qemu) && existsSync(join(folder, 'usr', 'bin', 'node')) ? folder : undefined;
}

/** Checks one prebuilt file; returns the list of checks that passed, throws on the first that fails. */
function check(file, spec) {
  const passed = [];
  if (has('readelf')) {
    const header = run('readelf', ['-h', file]).stdout;
    const machine = /Machine:\s+(.*)/.exec(header)?.[1].trim();
    if (machine !== spec.machine)
      throw new Error(`${file}: ELF machine is ${machine}, expected ${spec.machine}`);
    if (!/Type:\s+DYN/.test(header)) throw new Error(`${file}: not a shared object`);
    const symbols = run('readelf', ['--dyn-syms', '-W', file]).stdout;
    if (!/\sFUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+napi_register_module_v1$/m.test(symbols)) {
      throw new Error(`${file}: does not export napi_register_module_v1`);
    }
    passed.push(`readelf: ${spec.machine} shared object exporting napi_register_module_v1`);
  }
  // Loads the addon in a Node (this one, or an emulated one of the target arch), runs a GEMM
  // against a float64 reference and a softmax, and prints the kernel count and ISA.
  const probeScript = `const k = require(${JSON.stringify(file)});
    const [m, n, p] = [67, 45, 130];
    const a = Float32Array.from({ length: m * p }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: p * n }, (_, i) => Math.cos(3 * i));
    const c = new Float32Array(m * n);
    k.gemm(false, false, m, n, p, 1, a, 0, p, 0, b, 0, n, 0, 0, c, 0, n, 0, 1);
    let worst = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let sum = 0; for (let q = 0; q < p; q++) sum += a[i * p + q] * b[q * n + j];
      worst = Math.max(worst, Math.abs(sum - c[i * n + j]));
    }
    const x = new Float32Array([1, 2, 3]); k.softmax(x, x, 1, 3, false);
    if (!(worst < 1e-4) || Math.abs(x[2] - 0.6652409) > 1e-6) throw new Error('gemm error ' + worst + ', softmax ' + x);
    console.log(Object.keys(k).length + ' kernels, isa ' + (k.info ? k.info().isa : '?') + ', gemm max error ' + worst.toExponential(1));`;
  const emulated = nodeSysroot(spec);
  if (process.platform === 'linux' && process.arch === spec.arch) {
    const probe = run(process.execPath, ['-e', probeScript]);
    if (probe.status !== 0)
      throw new Error(`${file}: does not load in node: ${probe.stderr.trim()}`);
    passed.push(`node ${process.version}: loads; ${probe.stdout.trim()}; softmax right`);
  } else if (emulated) {
    const node = join(emulated, 'usr', 'bin', 'node');
    const probe = run(spec.qemu, ['-L', emulated, node, '-e', probeScript], { timeout: 300_000 });
    if (probe.status !== 0)
      throw new Error(
        `${file}: does not load in ${spec.arch} node under ${spec.qemu}: ${probe.stderr.trim()}`,
      );
    const version = run(spec.qemu, ['-L', emulated, node, '--version']).stdout.trim();
    passed.push(
      `${spec.qemu} + Debian's ${spec.arch} node ${version}: loads; ${probe.stdout.trim()}; softmax right`,
    );
  } else {
    const sysroot = `/usr/${spec.triple}`;
    const cc = `${spec.triple}-gcc`;
    if (has(spec.qemu) && has(cc) && existsSync(sysroot)) {
      const dir = mkdtempSync(join(tmpdir(), 'llmkit-dlopen-'));
      try {
        const driver = join(dir, 'dlopen.c');
        writeFileAtomicSync(
          driver,
          `#include <dlfcn.h>\n#include <stdio.h>\nint main(int argc, char** argv) {\n  void* h = dlopen(argv[1], RTLD_LAZY);\n  if (!h) { fprintf(stderr, "%s\\n", dlerror()); return 1; }\n  if (!dlsym(h, "napi_register_module_v1")) { fprintf(stderr, "%s\\n", dlerror()); return 2; }\n  return 0;\n}\n`,
        );
        const built = run(cc, ['-o', join(dir, 'dlopen'), driver, '-ldl']);
        if (built.status !== 0) throw new Error(`cannot build the dlopen driver: ${built.stderr}`);
        const loaded = run(spec.qemu, ['-L', sysroot, join(dir, 'dlopen'), file]);
        if (loaded.status !== 0)
          throw new Error(`${file}: dlopen under ${spec.qemu} failed: ${loaded.stderr.trim()}`);
        passed.push(
          `${spec.qemu}: dlopen() with ${sysroot}'s libc and libstdc++ resolves it (module init not run: no ${spec.arch} node here)`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return passed;
}

/** Compiles one target in a copy of the package and returns the .node files node-gyp made. */
function build(target, spec, tools, headersDir) {
  const work = mkdtempSync(join(tmpdir(), `llmkit-prebuild-${target}-`));
  const skip = new Set(['node_modules', 'build', 'prebuilds', 'dist', '.turbo']);
  cpSync(packageRoot, work, {
    recursive: true,
    filter: (source) => !skip.has(relative(packageRoot, source).split(/[\\/]/)[0]),
  });
  // binding.gyp may ask a dependency for include paths (node-addon-api style).
  if (existsSync(join(packageRoot, 'node_modules')))
    symlinkSync(join(packageRoot, 'node_modules'), join(work, 'node_modules'));
  const [command, ...head] = nodeGypCommand();
  const args = [...head, 'rebuild', `--arch=${spec.arch}`, '-j', String(availableParallelism())];
  if (headersDir) args.push(`--nodedir=${headersDir}`);
  // libstdc++ stays a shared library: linked in statically it would pull in arc4random and
  // _dl_find_object and need glibc 2.36 instead of 2.34 (Ubuntu 22.04 has 2.35).
  const env = { ...process.env, CC: tools.CC, CXX: tools.CXX };
  if (tools.cross) Object.assign(env, { LINK: tools.CXX, CC_host: 'gcc', CXX_host: 'g++' });
  const result = run(command, args, { cwd: work, env });
  if (result.status !== 0) {
    const output = `${result.stdout}${result.stderr}`.split('\n');
    const errors = output.filter((line) => /error|not found|No such file/i.test(line)).slice(0, 20);
    throw new Error(
      `node-gyp failed for ${target}:\n${(errors.length ? errors : output.slice(-30)).join('\n')}`,
    );
  }
  const release = join(work, 'build', 'Release');
  const addons = readdirSync(release).filter((file) => file.endsWith('.node'));
  if (addons.length === 0)
    throw new Error(`node-gyp made no .node file for ${target} in ${release}`);
  return { work, addons: addons.map((file) => join(release, file)) };
}

const headersDir = nodeHeadersDir();
const napi = napiVersion(headersDir);
const sources = sourceFiles();
const sourceHash = createHash('sha256');
for (const file of sources)
  sourceHash.update(`${file}\0`).update(readFileSync(join(packageRoot, file)));
const results = [];
let failed = false;

for (const target of targets) {
  const spec = TARGETS[target];
  const tools = compilers(spec);
  const folder = join(outRoot, target);
  if (!has(tools.CXX) || !has(tools.CC)) {
    const message = `${target}: no ${tools.CXX} on PATH (Debian: apt-get install g++-${spec.triple.replace(/_/g, '-')})`;
    if (values.strict) fail(`${message}; --strict needs every target`);
    console.warn(`prebuild: skipping ${message}`);
    results.push({ target, skipped: message });
    continue;
  }
  const compiler = run(tools.CXX, ['--version']).stdout.split('\n')[0];
  const hash = createHash('sha256')
    .update(sourceHash.copy().digest('hex'))
    .update(`${target}\0${compiler}\0${napi}\0${process.version}`)
    .digest('hex');
  const manifestPath = join(folder, 'llmkit_cpu.json');
  const previous = existsSync(manifestPath)
    ? JSON.parse(readFileSync(manifestPath, 'utf8'))
    : undefined;
  const upToDate =
    !values.force &&
    previous?.sourceHash === hash &&
    previous.files.every((file) => existsSync(join(folder, file)));
  let manifest = previous;
  const started = performance.now();
  try {
    if (!upToDate) {
      const { work, addons } = build(target, spec, tools, headersDir);
      try {
        mkdirSync(folder, { recursive: true });
        const files = [];
        let symbols = '';
        for (const addon of addons) {
          const name = `${addon.split(/[\\/]/).at(-1).slice(0, -'.node'.length)}.glibc.napi${napi}.node`;
          writeFileAtomicSync(join(folder, name), readFileSync(addon));
          files.push(name);
          if (has('readelf')) symbols += run('readelf', ['--dyn-syms', '-W', addon]).stdout;
        }
        // Prebuilds of an earlier Node-API version or of a target binding.gyp no longer defines.
        for (const file of readdirSync(folder))
          if (file.endsWith('.node') && !files.includes(file)) rmSync(join(folder, file));
        manifest = {
          target,
          files,
          napi,
          libc: 'glibc',
          needs: {
            glibc: highestVersion(symbols, 'GLIBC'),
            glibcxx: highestVersion(symbols, 'GLIBCXX'),
          },
          compiler,
          node: process.version,
          sourceHash: hash,
          sources: sources.length,
        };
        writeFileAtomicSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
    const checks = manifest.files.flatMap((file) => check(join(folder, file), spec));
    const seconds = (performance.now() - started) / 1000;
    const sizes = manifest.files.map((file) => statSync(join(folder, file)).size);
    console.log(
      `prebuild: ${target} ${upToDate ? 'up to date' : `built in ${seconds.toFixed(1)} s`}: ${manifest.files.join(', ')} (${sizes.join(', ')} bytes, needs GLIBC ${manifest.needs.glibc}, GLIBCXX ${manifest.needs.glibcxx})`,
    );
    for (const line of checks) console.log(`  ok ${line}`);
    results.push({
      target,
      reused: upToDate,
      seconds,
      files: manifest.files.map((file) => join(folder, file)),
      needs: manifest.needs,
      checks,
    });
  } catch (error) {
    failed = true;
    console.error(`prebuild: ${target}: ${error instanceof Error ? error.message : error}`);
    results.push({ target, error: String(error instanceof Error ? error.message : error) });
  }
}
console.log(JSON.stringify({ napi, results }));
if (failed) process.exit(1);
