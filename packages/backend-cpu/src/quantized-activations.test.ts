// The quantized products with 8-bit activations (attribute `activations: 'int8'`): the
// conformance suite checks them against the js reference on every path this CPU runs; here the
// paths without VNNI (LLMKIT_CPU_VNNI=0: vpmaddubsw instead of vpdpbusd) get the same check in a
// process of their own (VNNI is looked up once per process), and calls the products cannot take
// fail naming the format or K.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { quantizeActivations } from '@llmkit/core-tensor/backend';
import { afterAll, expect, it } from 'vitest';
import { setCpuIsa, supportedCpuIsas } from './isa.js';
import { QUANTIZED_FORMATS } from './kernels/quantized.js';
import { nativeKernels } from './native.js';

afterAll(() => setCpuIsa('default'));

it("quantizes x's rows for the tiled products bit for bit as the js reference, ties to even", () => {
  const native = nativeKernels();
  if (!native?.quantizedMatmul) return;
  // q8_0 weights that pick one element each (row j: code 1 at j, d = 1), so out[m, j] is x's code
  // times its block's d, exactly where a block's integer sum is whole before it turns float: the
  // tiled products (M > 1) on every path. (One row on the VNNI path sums per-lane partial sums,
  // the code-sum correction in one lane, in float32: close, not exact.)
  const K = 256;
  const weight = new Uint8Array(K * (K / 32) * 34);
  for (let j = 0; j < K; j++) {
    for (let b = 0; b < K / 32; b++) weight[j * (K / 32) * 34 + b * 34 + 1] = 0x3c; // d = 1
    weight[j * (K / 32) * 34 + Math.floor(j / 32) * 34 + 2 + (j % 32)] = 1;
  }
  const rows = 3;
  const x = new Float32Array(rows * K);
  let state = 7;
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    x[i] = (state / 2 ** 32 - 0.5) * 3;
  }
  // ties: amax 127 (scale 1) with halves of both parities and signs; a zero block; tiny values
  for (let j = 0; j < 32; j++) x[j] = j === 0 ? 127 : (j % 2 ? 1 : -1) * (j + 0.5);
  x.fill(0, 32, 64);
  for (let j = 64; j < 96; j++) x[j] *= 1e-30;
  for (const isa of supportedCpuIsas()) {
    setCpuIsa(isa);
    for (const m of [2, rows]) {
      const out = new Float32Array(m * K);
      native.quantizedMatmul?.(5, m, K, K, 32, true, false, x, weight, null, null, out, true);
      const expected = new Float32Array(m * K);
      for (let r = 0; r < m; r++) {
        const { codes, d } = quantizeActivations(x, r * K, K);
        // (+ 0: a zero d gives -0 for negative codes here, +0 from the kernels' sums)
        for (let j = 0; j < K; j++) expected[r * K + j] = codes[j] * d[Math.floor(j / 32)] + 0;
      }
      expect(Array.from(out), `${isa} M=${m}`).toEqual(Array.from(expected));
    }
  }
});

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
