// int8 dot products for quantized layers (@llmkit/quantize): exact int32 sums on the fastest
// int8 instructions the CPU has (AVX512_VNNI, AVX_VNNI, NEON widening multiplies; see
// src/kernels/int8.cc), scaled to float per output row.
import { CpuBackendError } from './errors.js';
import { nativeKernels } from './native.js';

interface Int8Kernels {
  int8Dot(a: Int8Array, b: Int8Array, k: number): number;
  int8Gemv(
    w: Int8Array,
    rowScales: Float32Array,
    x: Int8Array,
    xScale: number,
    y: Float32Array,
    n: number,
    k: number,
  ): void;
  info(): { int8: string };
}

const kernels = () => nativeKernels() as unknown as Int8Kernels;

/** Longest vector the int32 sums hold exactly for any int8 values (128 * 128 * k < 2^31). */
export const INT8_MAX_LENGTH = 131071;

function checkLength(name: string, k: number) {
  if (!Number.isInteger(k) || k < 0 || k > INT8_MAX_LENGTH) {
    throw new CpuBackendError(
      'invalid_argument',
      `${name}: length must be an integer in [0, ${INT8_MAX_LENGTH}], got ${k}`,
    );
  }
}

/**
 * Exact dot product of two int8 vectors (int32 arithmetic, no saturation).
 *
 * @example
 * ```ts
 * console.log(int8Dot(Int8Array.of(1, -2, 3), Int8Array.of(4, 5, -6))); // -24
 * ```
 */
export function int8Dot(a: Int8Array, b: Int8Array): number {
  if (a.length !== b.length) {
    throw new CpuBackendError(
      'invalid_argument',
      `int8Dot: lengths differ: ${a.length} and ${b.length}`,
    );
  }
  checkLength('int8Dot', a.length);
  return kernels().int8Dot(a, b, a.length);
}

/**
 * Quantized matrix-vector product `y[j] = xScale * rowScales[j] * (w[j, :] . x)` for an
 * `n x k` int8 weight matrix `w` (row-major, one scale per row, as symmetric per-channel int8
 * quantization stores it) and an int8 vector `x` with one scale. Writes `y` (n floats) and
 * returns it. The dot products are exact; only the final scaling rounds.
 *
 * @example
 * ```ts
 * const w = Int8Array.of(1, 2, 3, -4, -5, -6); // 2 x 3
 * const y = int8Gemv(w, Float32Array.of(0.5, 0.25), Int8Array.of(1, 1, 1), 2, 2, 3);
 * console.log(y); // Float32Array [6, -7.5]
 * ```
 */
export function int8Gemv(
  w: Int8Array,
  rowScales: Float32Array,
  x: Int8Array,
  xScale: number,
  n: number,
  k: number,
  y: Float32Array = new Float32Array(n),
): Float32Array {
  checkLength('int8Gemv', k);
  if (!Number.isInteger(n) || n < 0) {
    throw new CpuBackendError(
      'invalid_argument',
      `int8Gemv: n must be a non-negative integer, got ${n}`,
    );
  }
  const sizes: [string, number, number][] = [
    ['w', w.length, n * k],
    ['rowScales', rowScales.length, n],
    ['x', x.length, k],
    ['y', y.length, n],
  ];
  for (const [name, actual, expected] of sizes) {
    if (actual !== expected) {
      throw new CpuBackendError(
        'invalid_argument',
        `int8Gemv: ${name} has ${actual} elements, expected ${expected} for n=${n}, k=${k}`,
      );
    }
  }
  kernels().int8Gemv(w, rowScales, x, xScale, y, n, k);
  return y;
}

/**
 * Which int8 instructions {@link int8Gemv} runs on the current ISA path: `avx512-vnni`,
 * `avx512`, `avx-vnni`, `avx2`, `neon` or `portable`.
 *
 * @example
 * ```ts
 * console.log(int8Isa()); // avx512-vnni on a Zen 4/5 or Ice Lake server
 * ```
 */
export function int8Isa(): string {
  return kernels().info().int8;
}
