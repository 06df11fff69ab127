// The int8 kernels against exact integer references, on every ISA path, with and without VNNI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { INT8_MAX_LENGTH, int8Dot, int8Gemv, int8Isa } from './int8.js';
import { setCpuIsa, supportedCpuIsas } from './isa.js';
import { nativeKernels } from './native.js';

/** Seeded int8 values in [-128, 127] (mulberry32). */
function randomInt8(count: number, seed: number): Int8Array {
  let state = seed >>> 0;
  const out = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (((t ^ (t >>> 14)) >>> 0) % 256) - 128;
  }
  return out;
}

function referenceDot(a: Int8Array, b: Int8Array, offset = 0): number {
  let sum = 0;
  for (let p = 0; p < b.length; p++) sum += a[offset + p] * b[p];
  return sum;
}

const EXPECTED_INT8: Record<string, string[]> = {
  portable: ['portable'],
  avx2: ['avx-vnni', 'avx2'],
  avx512: ['avx512-vnni', 'avx512'],
  neon: ['neon'],
};

afterAll(() => {
  setCpuIsa('default');
});

for (const isa of supportedCpuIsas()) {
  describe(`int8 kernels, ${isa} path`, () => {
    it('uses the int8 instructions of the path', () => {
      setCpuIsa(isa);
      expect(EXPECTED_INT8[isa]).toContain(int8Isa());
    });

    it('int8Gemv is exact for every length tail and the extreme values', () => {
      setCpuIsa(isa);
      // lengths around the 16/32/64/128-byte steps of each path
      for (const k of [0, 1, 7, 15, 16, 31, 33, 63, 64, 65, 127, 128, 129, 300, 1000]) {
        const n = 19;
        const w = randomInt8(n * k, k + 1);
        const x = randomInt8(k, 7 * k + 3);
        if (k > 0) {
          w[0] = -128; // -128 * -128 is the largest product, where saturating forms go wrong
          x[0] = -128;
          w[k] = -128;
          w[(n - 1) * k + k - 1] = 127;
        }
        const scales = Float32Array.from({ length: n }, (_, j) => 0.5 + j / 8);
        const y = int8Gemv(w, scales, x, 0.25, n, k);
        for (let j = 0; j < n; j++) {
          expect(y[j], `row ${j}, k=${k}`).toBe(
            Math.fround(referenceDot(w, x, j * k) * Math.fround(0.25 * scales[j])),
          );
        }
      }
    });

    it('int8Dot holds the worst case at the longest length exactly', () => {
      setCpuIsa(isa);
      const a = new Int8Array(INT8_MAX_LENGTH).fill(-128);
      expect(int8Dot(a, a)).toBe(128 * 128 * INT8_MAX_LENGTH);
      const b = randomInt8(5000, 11);
      const c = randomInt8(5000, 12);
      expect(int8Dot(b, c)).toBe(referenceDot(b, c));
    });

    it('splits large matrices across threads with the same result', () => {
      setCpuIsa(isa);
      const n = 3000;
      const k = 768;
      const w = randomInt8(n * k, 5);
      const x = randomInt8(k, 6);
      const y = int8Gemv(w, new Float32Array(n).fill(1), x, 1, n, k);
      for (const j of [0, 1, 1499, 1500, 2999]) expect(y[j]).toBe(referenceDot(w, x, j * k));
    });
  });
}

describe('int8 arguments', () => {
  it('rejects mismatched sizes, naming them', () => {
    expect(() => int8Dot(new Int8Array(3), new Int8Array(4))).toThrow(
      'int8Dot: lengths differ: 3 and 4',
    );
    expect(() =>
      int8Gemv(new Int8Array(5), new Float32Array(2), new Int8Array(3), 1, 2, 3),
    ).toThrow('int8Gemv: w has 5 elements, expected 6 for n=2, k=3');
    expect(() =>
      int8Gemv(new Int8Array(0), new Float32Array(0), new Int8Array(0), 1, 0, -1),
    ).toThrow('int8Gemv: length must be an integer in [0, 131071], got -1');
  });
});

it('LLMKIT_CPU_VNNI=0 runs the widening paths, with the same sums', () => {
  const addon =
    process.env.LLMKIT_CPU_ADDON ??
    fileURLToPath(new URL('../build/Release/llmkit_cpu.node', import.meta.url));
  nativeKernels();
  const script = `
    const n = require(${JSON.stringify(addon)});
    const out = [];
    for (const isa of n.info().supported) {
      n.setIsa(isa);
      const k = 1000, rows = 8, w = new Int8Array(rows * k), x = new Int8Array(k);
      for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) >>> 0) % 256 - 128;
      for (let i = 0; i < k; i++) x[i] = ((i * 40503) >>> 0) % 256 - 128;
      const y = new Float32Array(rows);
      n.int8Gemv(w, new Float32Array(rows).fill(1), x, 1, y, rows, k);
      let ok = true;
      for (let j = 0; j < rows; j++) {
        let d = 0;
        for (let p = 0; p < k; p++) d += w[j * k + p] * x[p];
        ok = ok && d === y[j];
      }
      out.push([isa, n.info().int8, ok]);
    }
    console.log(JSON.stringify(out));`;
  const result = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, LLMKIT_CPU_VNNI: '0' },
  });
  expect(result.status, result.stderr).toBe(0);
  for (const [isa, path, ok] of JSON.parse(result.stdout)) {
    expect(path, isa).not.toContain('vnni');
    expect(ok, isa).toBe(true);
  }
});
