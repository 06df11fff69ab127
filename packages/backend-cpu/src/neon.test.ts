// The AArch64 NEON kernels, checked on this x86 machine: every kernel source of binding.gyp is
// cross-compiled with Debian's aarch64-linux-gnu-g++ twice (portable, and with LLMKIT_ISA_NEON),
// linked with test/kernel-check.cc (scalar references, no Node) and run under qemu-aarch64.
// Skips with a message when the cross compiler or qemu-user is missing (.ci/apt-packages lists
// both). Objects are cached in the temp folder and rebuilt when a source or header is newer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiler = 'aarch64-linux-gnu-g++';
const sysroot = '/usr/aarch64-linux-gnu';

function missingTools(): string | undefined {
  for (const tool of [compiler, 'qemu-aarch64']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) {
      return `${tool} not found (apt-get install g++-aarch64-linux-gnu qemu-user)`;
    }
  }
  return undefined;
}

/** binding.gyp's kernel_sources: the files every ISA path compiles. */
function kernelSources(): string[] {
  const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
  const block = /"kernel_sources":\s*\[([^\]]*)\]/.exec(gyp)?.[1] ?? '';
  const lines = block.split('\n').filter((line) => !line.trim().startsWith('#'));
  return [...lines.join('\n').matchAll(/"(src\/kernels\/[\w-]+\.cc)"/g)].map((m) => m[1]);
}

const newest = (paths: string[]) => Math.max(...paths.map((path) => statSync(path).mtimeMs));

/** Compiles what is out of date into `out`, in parallel pairs; returns the objects. */
function build(out: string): string[] {
  const headers = ['src/kernels', 'src/native']
    .flatMap((folder) => readdirSync(join(root, folder)).map((name) => join(root, folder, name)))
    .filter((path) => path.endsWith('.h'));
  const headerTime = newest(headers);
  const flags = ['-O2', '-std=c++17', '-fno-math-errno', '-fno-trapping-math'];
  const jobs: { source: string; object: string; defines: string[] }[] = [];
  for (const source of kernelSources()) {
    const name = basename(source, '.cc');
    jobs.push({ source, object: join(out, `${name}.portable.o`), defines: [] });
    jobs.push({ source, object: join(out, `${name}.neon.o`), defines: ['-DLLMKIT_ISA_NEON'] });
  }
  for (const source of [
    'src/kernels/scratch.cc',
    'src/kernels/thread-pool.cc',
    'src/native/dispatch.cc',
    'test/kernel-check.cc',
  ]) {
    const object = join(out, `${basename(source, '.cc')}.o`);
    jobs.push({ source, object, defines: ['-DLLMKIT_HAVE_NEON_BUILD'] });
  }
  const stale = jobs.filter(({ source, object }) => {
    if (!existsSync(object)) return true;
    const built = statSync(object).mtimeMs;
    return built < headerTime || built < statSync(join(root, source)).mtimeMs;
  });
  // two at a time through xargs: the machine has two cores
  const commands = stale.map(({ source, object, defines }) =>
    [compiler, ...flags, ...defines, '-c', join(root, source), '-o', object].join(' '),
  );
  if (commands.length > 0) {
    const result = spawnSync('xargs', ['-P', '2', '-I', '{}', 'sh', '-c', '{}'], {
      input: commands.join('\n'),
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
  }
  return jobs.map((job) => job.object);
}

const missing = missingTools();

describe('NEON kernels under qemu-aarch64', () => {
  it.skipIf(missing !== undefined)(
    `pass test/kernel-check.cc against scalar references${missing ? ` (skipped: ${missing})` : ''}`,
    () => {
      const out = join(tmpdir(), 'llmkit-neon-check');
      mkdirSync(out, { recursive: true });
      const objects = build(out);
      const program = join(out, 'kernel-check');
      const link = spawnSync(compiler, ['-o', program, ...objects, '-lpthread'], {
        encoding: 'utf8',
      });
      expect(link.status, link.stderr).toBe(0);
      const run = spawnSync('qemu-aarch64', ['-L', sysroot, program], {
        encoding: 'utf8',
        timeout: 600_000,
      });
      const failed = run.stdout.split('\n').filter((line) => line.startsWith('FAIL'));
      expect(failed, run.stdout.slice(-2000)).toEqual([]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/ok {3}neon +gemm 200x97x600 x1 TT/);
      expect(run.stdout).toMatch(/ok {3}neon +attention causal/);
      expect(run.stdout).toMatch(/ok {3}neon +half bf16 37x67x300 T/);
      expect(run.stdout.trim().split('\n').pop()).toBe('kernel-check: 2 tables, 0 failures');
    },
    900_000,
  );
});
