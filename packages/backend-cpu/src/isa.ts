// Which instruction-set path the native kernels run: the addon picks the best one the CPU supports
// at load time (src/native/dispatch.cc), `LLMKIT_CPU_ISA=portable|avx2|avx512|neon` forces a
// lower one for the whole process, and setCpuIsa switches at run time (tests run every path).
import { CpuBackendError } from './errors.js';
import { nativeKernels } from './native.js';

/**
 * The instruction-set paths of the native kernels, lowest first: `portable` (plain C++, any CPU),
 * `avx2` (AVX2 + FMA + F16C), `avx512` (AVX-512 F/BW/DQ/VL), `neon` (AArch64 Advanced SIMD).
 */
export const CPU_ISAS = ['portable', 'avx2', 'avx512', 'neon'] as const;

/** One of {@link CPU_ISAS}. */
export type CpuIsa = (typeof CPU_ISAS)[number];

/** CPU features the kernels look for (false on other architectures). */
export interface CpuFeatures {
  avx2: boolean;
  fma: boolean;
  avx512f: boolean;
  avx512bw: boolean;
  avx512dq: boolean;
  avx512vl: boolean;
  /** int8 dot products on zmm registers (int8Gemv uses them). */
  avx512vnni: boolean;
  /** int8 dot products on ymm registers (Alder Lake, Zen 5). */
  avxvnni: boolean;
  avx512bf16: boolean;
}

/** What the addon's `info()` returns (native.ts types the first two fields). */
export interface NativeIsaInfo {
  /** The path in use. */
  isa: CpuIsa;
  /** The path chosen when nothing is forced. */
  best: CpuIsa;
  /** `LLMKIT_CPU_ISA` as given, or null when unset. */
  requested: string | null;
  /** Every path this build has and this CPU can run, lowest first. */
  supported: CpuIsa[];
  features: CpuFeatures;
  threads: number;
}

interface IsaControl {
  info(): NativeIsaInfo;
  setIsa(name: string): string;
}

function control(): IsaControl {
  return nativeKernels() as unknown as IsaControl;
}

/**
 * The instruction-set paths this machine can run, lowest first (always starts with `portable`).
 *
 * @example
 * ```ts
 * console.log(supportedCpuIsas()); // [ 'portable', 'avx2', 'avx512' ] on an AVX-512 server
 * ```
 */
export function supportedCpuIsas(): CpuIsa[] {
  return control().info().supported;
}

/**
 * Switches every native kernel to one instruction-set path and returns the path now in use.
 * `'best'` picks the best this CPU runs, `'default'` what `LLMKIT_CPU_ISA` asked for (or the
 * best). Throws `invalid_argument` for an unknown name or one this CPU cannot run.
 *
 * @example
 * ```ts
 * setCpuIsa('avx2'); // compare the AVX2 kernels on an AVX-512 machine
 * setCpuIsa('default');
 * ```
 */
export function setCpuIsa(isa: CpuIsa | 'best' | 'default'): CpuIsa {
  const supported = supportedCpuIsas();
  if (isa !== 'best' && isa !== 'default' && !supported.includes(isa)) {
    const known = (CPU_ISAS as readonly string[]).includes(isa);
    throw new CpuBackendError(
      'invalid_argument',
      known
        ? `setCpuIsa: this CPU or build cannot run '${isa}' (supported: ${supported.join(', ')})`
        : `setCpuIsa: expected one of ${[...CPU_ISAS, 'best', 'default'].join(', ')}, got '${String(isa)}'`,
    );
  }
  return control().setIsa(isa === 'default' ? '' : isa) as CpuIsa;
}
