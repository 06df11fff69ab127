import { CpuBackendError } from './errors.js';
import { nativeKernels, nativeLoadFailure, tryLoadNative } from './native.js';

/** What {@link cpuBackendInfo} reports. */
export interface CpuBackendInfo {
  /** True when the native addon loaded. */
  available: boolean;
  /** Why it did not load (absent when it did). */
  reason?: string;
  /** Kernels in use: `avx2-fma` (AVX2 + FMA micro-kernels) or `portable` (plain C++). */
  isa?: string;
  /** Threads the kernels use, the calling thread included. */
  threads?: number;
}

/**
 * Says whether the native addon loads here, which instruction set its kernels use and how many
 * threads they run on.
 *
 * @example
 * ```ts
 * console.log(cpuBackendInfo()); // { available: true, isa: 'avx2-fma', threads: 2 }
 * ```
 */
export function cpuBackendInfo(): CpuBackendInfo {
  const native = tryLoadNative();
  if (!native) return { available: false, reason: nativeLoadFailure() };
  return { available: true, ...native.info() };
}

/**
 * Sets how many threads the native kernels use (the calling thread included) and returns it.
 *
 * @example
 * ```ts
 * setCpuThreads(1); // single-threaded, e.g. beside other busy processes
 * ```
 */
export function setCpuThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new CpuBackendError(
      'invalid_argument',
      `setCpuThreads: threads must be an integer in [1, 1024], got ${threads}`,
    );
  }
  return nativeKernels().setThreads(threads);
}
