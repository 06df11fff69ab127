// The quantized products with 8-bit activations (attribute `activations: 'int8'`): the
// conformance suite checks them against the js reference on every path this CPU runs; here the
// paths without VNNI (LLMKIT_CPU_VNNI=0: vpmaddubsw instead of vpdpbusd) get the same check in a
// process of their own (VNNI is looked up once per process), and calls the products cannot take
// fail naming the format or K.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { QUANTIZED_FORMATS } from './kernels/quantized.js';
import { nativeKernels } from './native.js';

it('LLMKIT_CPU_VNNI=0 gives the js reference results on every path', () => {
  const backend = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = `
    import { checkConformanceCase, conformanceCases } from '@llmkit/core-tensor/testing';
    const { createCpuBackend, setCpuIsa, supportedCpuIsas } = await import(${JSON.stringify(backend)});
    const out = [];
    for (const isa of supportedCpuIsas()) {
      setCpuIsa(isa);
      const cpu = createCpuBackend();
      const cases = conformanceCases(cpu, { floatDTypes: ['float32'] }).filter((c) =>
        c.name.includes('activations int8'));
      const failures = [];
      for (const c of cases) {
        const failure = await checkConformanceCase(cpu, c);
        if (failure) failures.push(failure);
      }
      out.push([isa, cases.length, failures]);
    }
    console.log(JSON.stringify(out));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, LLMKIT_CPU_VNNI: '0' },
  });
  expect(result.status, result.stderr).toBe(0);
  const runs = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '[]') as [
    string,
    number,
    string[],
  ][];
  expect(runs.length).toBeGreaterThan(0);
  for (const [isa, count, failures] of runs) {
    expect(count, isa).toBe(54);
    expect(failures, isa).toEqual([]);
  }
});

it('rejects a format or K the 8-bit activation products do not take, naming it', () => {
  const native = nativeKernels();
  if (!native?.quantizedMatmul) return;
  const call = (format: number, k: number, group = 0) =>
    native.quantizedMatmul?.(
      format,
      1,
      2,
      k,
      group,
      true,
      false,
      new Float32Array(k),
      new Uint8Array(2 * k * 2),
      new Float32Array(2 * k),
      null,
      new Float32Array(2),
      true,
    );
  expect(() => call(QUANTIZED_FORMATS.indexOf('nf4'), 64, 64)).toThrow(
    /8-bit activations need int8, q8_0, q4_0 or symmetric int4/,
  );
  expect(() => call(QUANTIZED_FORMATS.indexOf('int8'), 48)).toThrow(
    /8-bit activations need k a multiple of 32, got 48/,
  );
});
