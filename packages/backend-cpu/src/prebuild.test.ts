// Prebuilt binaries: which file the loader picks, that scripts/prebuild.mjs builds linux-x64 and
// linux-arm64 addons that are what they claim to be (arm64: run in Debian's arm64 Node under
// qemu-user), and the install script when a prebuild fits (nothing compiled) and when neither a
// prebuild nor a compiler is there (one warning, and the js backend). Compiling from source is
// what every `pnpm install` of the workspace does.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeKernels } from './native.js';
import { type AddonRuntime, currentRuntime, findPrebuild, selectPrebuild } from './prebuild.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const linux = (libc: AddonRuntime['libc'], napi: number): AddonRuntime => ({
  platform: 'linux',
  arch: 'x64',
  libc,
  napi,
});

describe('selectPrebuild', () => {
  const files = ['a.glibc.napi8.node', 'a.glibc.napi6.node', 'a.musl.napi8.node', 'a.json'];

  it('takes the highest Node-API version that this Node supports, for its libc', () => {
    expect(selectPrebuild(files, 'a', linux('glibc', 9))).toBe('a.glibc.napi8.node');
    expect(selectPrebuild(files, 'a', linux('glibc', 7))).toBe('a.glibc.napi6.node');
    expect(selectPrebuild(files, 'a', linux('musl', 9))).toBe('a.musl.napi8.node');
  });

  it('finds nothing for a too old Node-API, another libc, another name or unknown tags', () => {
    expect(selectPrebuild(files, 'a', linux('glibc', 5))).toBeUndefined();
    expect(selectPrebuild(['a.glibc.napi8.node'], 'a', linux('musl', 9))).toBeUndefined();
    expect(selectPrebuild(files, 'b', linux('glibc', 9))).toBeUndefined();
    expect(selectPrebuild(['a.glibc.napi8.armv7.node'], 'a', linux('glibc', 9))).toBeUndefined();
    expect(selectPrebuild(['a.node'], 'a', linux('glibc', 9))).toBeUndefined();
  });

  it('takes an untagged-libc prebuild anywhere', () => {
    expect(
      selectPrebuild(['a.napi3.node'], 'a', { ...linux(undefined, 9), platform: 'darwin' }),
    ).toBe('a.napi3.node');
  });

  it('says which folder it looked in', () => {
    const runtime = { ...linux('glibc', 9), arch: 'riscv64' };
    expect(findPrebuild(packageRoot, 'llmkit_cpu', runtime)).toEqual({
      reason:
        'no prebuilt addon for linux-riscv64 (glibc), Node-API <= 9 (no prebuilds/linux-riscv64/)',
    });
  });

  it('knows this process', () => {
    const runtime = currentRuntime();
    expect(runtime.napi).toBe(Number(process.versions.napi));
    if (process.platform === 'linux') expect(runtime.libc).toBe('glibc'); // Debian here
  });
});

// One JSON line at the end of scripts/prebuild.mjs's output.
interface PrebuildReport {
  napi: number;
  results: {
    target: string;
    files?: string[];
    checks?: string[];
    error?: string;
    skipped?: string;
  }[];
}

const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';
const hasCross = spawnSync('aarch64-linux-gnu-g++', ['--version']).status === 0;
let report: PrebuildReport | undefined;
const sysroot = join(homedir(), '.cache', 'llmkit', 'node-arm64');

function prebuilds(): PrebuildReport {
  if (report) return report;
  // An arm64 Node from Debian's packages for qemu-user (~25 MB, once per machine); without apt
  // or its mirrors the arm64 check falls back to dlopen() in a small C driver.
  if (hasCross && spawnSync('apt-get', ['--version']).status === 0) {
    spawnSync('bash', ['scripts/node-sysroot.sh', 'arm64', sysroot], { cwd: packageRoot });
  }
  // Builds into the package's prebuilds/ (reused when the sources did not change), as prepack does.
  const run = spawnSync(process.execPath, ['scripts/prebuild.mjs'], {
    cwd: packageRoot,
    encoding: 'utf8',
  });
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0) throw new Error(`prebuild.mjs failed:\n${run.stdout}\n${run.stderr}`);
  report = JSON.parse(last) as PrebuildReport;
  return report;
}

/** C = A @ B in float64, the reference. */
function matmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++)
      for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  }
  return c;
}

describe.runIf(onLinuxX64)('scripts/prebuild.mjs', () => {
  it('builds a linux-x64 addon that loads here and computes a GEMM right', {
    timeout: 1_200_000,
  }, () => {
    const x64 = prebuilds().results.find((result) => result.target === 'linux-x64');
    expect(x64?.error).toBeUndefined();
    expect(x64?.files?.[0]).toMatch(
      /prebuilds[\\/]linux-x64[\\/]llmkit_cpu\.glibc\.napi\d+\.node$/,
    );
    expect(findPrebuild(packageRoot, 'llmkit_cpu').path).toBe(x64?.files?.[0]);
    const kernels = createRequire(import.meta.url)(x64?.files?.[0] as string) as NativeKernels;
    const [m, n, k] = [67, 45, 130];
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(3 * i));
    const c = new Float32Array(m * n);
    kernels.gemm(false, false, m, n, k, 1, a, 0, k, 0, b, 0, n, 0, 0, c, 0, n, 0, 1);
    const expected = matmul(a, b, m, n, k);
    let worst = 0;
    for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i] - expected[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  it.runIf(hasCross)(
    'cross-compiles a linux-arm64 AArch64 addon that loads under qemu-user',
    { timeout: 1_200_000 },
    () => {
      const arm64 = prebuilds().results.find((result) => result.target === 'linux-arm64');
      expect(arm64?.error).toBeUndefined();
      expect(arm64?.files?.[0]).toMatch(
        /prebuilds[\\/]linux-arm64[\\/]llmkit_cpu\.glibc\.napi\d+\.node$/,
      );
      const checks = arm64?.checks?.join('\n') ?? '';
      expect(checks).toContain('AArch64 shared object exporting napi_register_module_v1');
      if (spawnSync('qemu-aarch64', ['--version']).status === 0) {
        // Run by a real arm64 Node under qemu-user where the sysroot could be made; else dlopen()ed.
        if (existsSync(join(sysroot, 'usr', 'bin', 'node'))) {
          expect(checks).toMatch(
            /qemu-aarch64 \+ Debian's arm64 node v[\d.]+: loads; \d+ kernels, isa neon/,
          );
        } else {
          expect(checks).toContain('qemu-aarch64: dlopen()');
        }
      }
      const file = spawnSync('file', ['-b', arm64?.files?.[0] as string], {
        encoding: 'utf8',
      }).stdout;
      if (file) expect(file).toMatch(/ELF 64-bit LSB shared object, ARM aarch64/);
    },
  );
});

describe.runIf(onLinuxX64)('scripts/build-addon.mjs (the install script)', () => {
  const folders: string[] = [];
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  /** A copy of the installed package: what npm unpacks, plus its dependencies. */
  function installedCopy(withPrebuilds: boolean): string {
    const root = mkdtempSync(join(tmpdir(), 'llmkit-install-'));
    folders.push(root);
    for (const entry of ['package.json', 'binding.gyp', 'scripts', 'src', 'dist']) {
      cpSync(join(packageRoot, entry), join(root, entry), { recursive: true });
    }
    if (withPrebuilds) {
      mkdirSync(join(root, 'prebuilds'));
      cpSync(join(packageRoot, 'prebuilds', 'linux-x64'), join(root, 'prebuilds', 'linux-x64'), {
        recursive: true,
      });
    }
    symlinkSync(join(packageRoot, 'node_modules'), join(root, 'node_modules'));
    return root;
  }

  function install(root: string, env: Record<string, string> = {}) {
    return spawnSync(process.execPath, ['scripts/build-addon.mjs'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...env, LLMKIT_CPU_REQUIRE_BUILD: '' },
    });
  }

  function register(root: string) {
    const script = `await import('./dist/register.js'); const core = await import('@llmkit/core-tensor'); console.log(core.getBackend().name);`;
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
  }

  it('uses a prebuild that fits without compiling anything', { timeout: 1_200_000 }, () => {
    prebuilds();
    const root = installedCopy(true);
    const result = install(root, { CXX: '/nonexistent/g++', CC: '/nonexistent/gcc' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(existsSync(join(root, 'build'))).toBe(false);
    const run = register(root);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('cpu');
  });

  it('without a prebuild or a compiler: installs, warns once, and register falls back to js', {
    timeout: 120_000,
  }, () => {
    const root = installedCopy(false);
    const result = install(root, { CXX: '/nonexistent/g++', CC: '/nonexistent/gcc' });
    expect(result.status).toBe(0);
    const warnings = result.stderr.trim().split('\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^@llmkit\/backend-cpu: no usable prebuilt addon \(no prebuilt addon for linux-x64 \(glibc\), Node-API <= \d+ \(no prebuilds\/linux-x64\/\)\) and compiling it from source failed \(node-gyp exited with 1; see .*install\.log\); the cpu backend is off/,
    );
    const run = register(root);
    expect(run.stdout.trim()).toBe('js');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^@llmkit\/backend-cpu: cpu backend not registered, using js: no prebuilt addon for linux-x64 .*; compiling it from source failed \(see .*install\.log\)$/,
    );
  });
});
