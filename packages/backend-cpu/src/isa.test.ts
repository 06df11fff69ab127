// Choosing the instruction-set path: LLMKIT_CPU_ISA in a fresh process (the addon reads it once,
// at load), setCpuIsa at run time, and what cpuBackendInfo reports.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackendError } from './errors.js';
import { cpuBackendInfo } from './info.js';
import { CPU_ISAS, setCpuIsa, supportedCpuIsas } from './isa.js';

const addon =
  process.env.LLMKIT_CPU_ADDON ??
  fileURLToPath(new URL('../build/Release/llmkit_cpu.node', import.meta.url));

/** info() of the addon loaded in a child process with LLMKIT_CPU_ISA set, and its stderr. */
function childInfo(isa: string) {
  const result = spawnSync(
    process.execPath,
    ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addon)}).info()))`],
    { encoding: 'utf8', env: { ...process.env, LLMKIT_CPU_ISA: isa } },
  );
  expect(result.status, result.stderr).toBe(0);
  return { info: JSON.parse(result.stdout), stderr: result.stderr };
}

const supported = supportedCpuIsas();
const best = supported[supported.length - 1];
const unsupported = CPU_ISAS.filter((isa) => !supported.includes(isa));

afterAll(() => {
  setCpuIsa('default');
});

describe.skipIf(!existsSync(addon))('LLMKIT_CPU_ISA', () => {
  for (const isa of supported) {
    it(`=${isa} runs the ${isa} kernels and says so`, () => {
      const { info, stderr } = childInfo(isa);
      expect(info.isa).toBe(isa);
      expect(info.requested).toBe(isa);
      expect(info.best).toBe(best);
      expect(stderr).toBe('');
    });
  }

  it('an unknown value warns once and runs the best path', () => {
    const { info, stderr } = childInfo('avx9');
    expect(info.isa).toBe(best);
    expect(stderr.trim()).toBe(
      `@llmkit/backend-cpu: LLMKIT_CPU_ISA=avx9 is not one of portable, avx2, avx512, neon; using ${best}`,
    );
  });

  it.skipIf(unsupported.length === 0)('a path this CPU cannot run is never taken', () => {
    const { info, stderr } = childInfo(unsupported[0]);
    expect(info.isa).toBe(best);
    expect(stderr).toContain(`LLMKIT_CPU_ISA=${unsupported[0]} is not supported by this CPU`);
  });
});

describe('setCpuIsa and cpuBackendInfo', () => {
  it('reports the chosen path, the supported ones and the CPU features', () => {
    const info = cpuBackendInfo();
    expect(info.available).toBe(true);
    expect(info.supported).toEqual(supported);
    expect(info.isa).toBe(process.env.LLMKIT_CPU_ISA ? info.isa : best);
    expect(typeof info.features?.avx512vnni).toBe('boolean');
    if (process.arch === 'x64') {
      expect(info.features?.avx2).toBe(true);
      expect(supported.includes('avx512')).toBe(
        Boolean(info.features?.avx512f && info.features.avx512bw && info.features.avx512vl),
      );
    }
    if (process.arch === 'arm64') expect(supported).toEqual(['portable', 'neon']);
  });

  it('switches paths and back', () => {
    for (const isa of supported) {
      expect(setCpuIsa(isa)).toBe(isa);
      expect(cpuBackendInfo().isa).toBe(isa);
    }
    expect(setCpuIsa('best')).toBe(best);
  });

  it('rejects unknown and unsupported names, naming what is supported', () => {
    expect(() => setCpuIsa('avx9' as never)).toThrow(
      "setCpuIsa: expected one of portable, avx2, avx512, neon, best, default, got 'avx9'",
    );
    try {
      setCpuIsa('avx9' as never);
    } catch (error) {
      expect(error).toBeInstanceOf(CpuBackendError);
      expect((error as CpuBackendError).code).toBe('invalid_argument');
    }
    for (const isa of unsupported) {
      expect(() => setCpuIsa(isa)).toThrow(
        `setCpuIsa: this CPU or build cannot run '${isa}' (supported: ${supported.join(', ')})`,
      );
    }
  });
});
