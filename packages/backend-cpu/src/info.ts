import { CpuBackendError } from './errors.js';
import type { CpuFeatures, CpuIsa, NativeIsaInfo } from './isa.js';
import { nativeKernels, nativeLoadFailure, tryLoadNative } from './native.js';

/** What {@link cpuBackendInfo} reports. */
export interface CpuBackendInfo {
  /** True when the native addon loaded. */
  available: boolean;
  /** Why it did not load (absent when it did). */
  reason?: string;
  /**
   * Kernel path in use: `avx512`, `avx2` (AVX2 + FMA + F16C), `neon` (AArch64) or `portable`
   * (plain C++). The best this CPU supports unless `LLMKIT_CPU_ISA` or {@link setCpuIsa} chose
   * another.
   */
  isa?: CpuIsa;
  /** The path chosen when nothing is forced. */
  best?: CpuIsa;
  /** `LLMKIT_CPU_ISA` as given (null when unset); a value the CPU cannot run warns and is ignored. */
  requested?: string | null;
  /** Every path this build has and this CPU can run, lowest first. */
  supported?: CpuIsa[];
  /** The CPU's SIMD features the kernels use (AVX2, AVX-512 subsets, VNNI, BF16). */
  features?: CpuFeatures;
  /** Threads the kernels use, the calling thread included. */
  threads?: number;
}

/**
 * Says whether the native addon loads here, which instruction-set path its kernels use, which
 * paths and SIMD features this machine has, and how many threads the kernels run on.
 *
 * @example
 * ```ts
 * const { isa, supported, threads } = cpuBackendInfo();
 * console.log(isa, supported, threads); // avx512 [ 'portable', 'avx2', 'avx512' ] 2
 * ```
 */
export function cpuBackendInfo(): CpuBackendInfo {
  const native = tryLoadNative();
  if (!native) return { available: false, reason: nativeLoadFailure() };
  return { available: true, ...(native.info() as unknown as NativeIsaInfo) };
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
