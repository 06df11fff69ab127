// bf16 / fp16 weights (src/kernels/half.cc) at sizes core-tensor's conformance cases stay under:
// a GEMM wider than one 1024-column block of packed B (forward N = 1100; input gradient K = 1100),
// deeper than one 256-deep slice, split across threads, and a matrix-vector product over 2049 rows
// (threads' ragged shares), on every path this CPU runs, against float64 sums of the decoded
// weights. Each weight buffer is exactly its size, so a read past it would show under
// scripts/leak-check.sh's AddressSanitizer build.
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackendInfo, setCpuThreads } from './info.js';
import { setCpuIsa, supportedCpuIsas } from './isa.js';
import { QUANTIZED_FORMATS } from './kernels/quantized.js';
import { nativeKernels } from './native.js';

const native = nativeKernels();
const threadsBefore = cpuBackendInfo().threads ?? 1;

/** A half's value: fp16 by its fields, bf16 as a float's upper 16 bits. */
function decode(format: 'fp16' | 'bf16', bits: number): number {
  if (format === 'bf16') return new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
  const exponent = (bits >> 10) & 31;
  const mantissa = bits & 1023;
  const magnitude =
    exponent === 0 ? mantissa * 2 ** -24 : (1 + mantissa / 1024) * 2 ** (exponent - 15);
  return bits & 0x8000 ? -magnitude : magnitude;
}

/** Random finite words of magnitude below 2 (fp16 subnormals included; bf16 2^-17 .. 2). */
function randomWords(format: 'fp16' | 'bf16', count: number, seed: number): Uint16Array {
  const words = new Uint16Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const r = s >>> 8;
    words[i] = format === 'fp16' ? r & 0xbfff : (r & 0x807f) | ((110 + (r % 18)) << 7);
  }
  return words;
}

// [M, N, K, transposed]: out [M, N] = x @ W^T, or out [M, K] = x @ W
const shapes: [number, number, number, boolean][] = [
  [37, 1100, 300, false],
  [20, 300, 1100, true],
  [2, 2049, 64, false],
  [3, 2049, 64, true],
];

describe.skipIf(!native?.quantizedMatmul)('16-bit weights past one block of the GEMM', () => {
  afterAll(() => {
    setCpuIsa('default');
    setCpuThreads(threadsBefore);
  });
  for (const isa of supportedCpuIsas()) {
    for (const format of ['bf16', 'fp16'] as const) {
      it(`${isa} ${format}: matches float64 sums on 1 and 2 threads`, () => {
        setCpuIsa(isa);
        for (const [M, N, K, transposed] of shapes) {
          const words = randomWords(format, N * K, M * 7919 + N);
          const weights = Float64Array.from(words, (bits) => decode(format, bits));
          const inner = transposed ? N : K;
          const outer = transposed ? K : N;
          const x = Float32Array.from({ length: M * inner }, (_, i) => Math.sin(i * 0.37));
          const expected = new Float64Array(M * outer);
          for (let m = 0; m < M; m++) {
            for (let j = 0; j < outer; j++) {
              let sum = 0;
              for (let p = 0; p < inner; p++) {
                const w = transposed ? weights[p * K + j] : weights[j * K + p];
                sum += x[m * inner + p] * w;
              }
              expected[m * outer + j] = sum;
            }
          }
          for (const threads of [1, 2]) {
            setCpuThreads(threads);
            const out = new Float32Array(M * outer).fill(7);
            native?.quantizedMatmul?.(
              QUANTIZED_FORMATS.indexOf(format),
              M,
              N,
              K,
              0,
              true,
              transposed,
              x,
              new Uint8Array(words.buffer),
              null,
              null,
              out,
              false,
            );
            let worst = 0;
            for (let i = 0; i < out.length; i++) {
              const error = Math.abs(out[i] - expected[i]) / (1e-4 + 1e-4 * Math.abs(expected[i]));
              worst = Math.max(worst, error);
            }
            expect(
              worst,
              `${M}x${N}x${K}${transposed ? ' T' : ''}, ${threads} threads`,
            ).toBeLessThan(1);
          }
        }
      });
    }
  }
});
