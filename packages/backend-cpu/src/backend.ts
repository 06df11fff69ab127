// The `cpu` backend: core-tensor's Backend interface over the native kernels.
//
// Memory comes from an inner js backend (pooled typed arrays, freed buffers reused by size), so
// every buffer is a plain typed array the addon can read through Node-API without copying, and
// any kernel the native code does not cover runs on the js kernel with the same buffers.
import {
  type Backend,
  type BackendBuffer,
  createJsBackend,
  type KernelAttributes,
  type KernelTensor,
} from '@llmkit/core-tensor/backend';
import { binary, copy, gather, reduce, unary, where } from './kernels/elementwise.js';
import { FUSED } from './kernels/fused.js';
import { matmul } from './kernels/matmul.js';
import { QUANTIZED } from './kernels/quantized.js';
import { type NativeKernels, nativeKernels } from './native.js';

type NativeKernel = (
  native: NativeKernels,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attributes: KernelAttributes,
) => boolean;

const NATIVE: Readonly<Record<string, NativeKernel>> = {
  matmul,
  unary,
  binary,
  copy,
  reduce,
  where,
  gather,
  ...FUSED,
  ...QUANTIZED,
};

/** Options of {@link createCpuBackend}. */
export interface CpuBackendOptions {
  /** Registry name (default `cpu`). */
  name?: string;
  /** Freed bytes kept for reuse (default 512 MiB: a training step reallocates the same shapes). */
  maxPooledBytes?: number;
  /** Worker threads including the caller (default: every core this process may use). */
  threads?: number;
  /** Record time and calls per kernel, read with {@link CpuBackend.profile} (default false). */
  profile?: boolean;
}

/** Time spent in one kernel, from {@link CpuBackend.profile}. */
export interface KernelProfile {
  /** Kernel name, suffixed `(js)` when the js fallback ran it. */
  kernel: string;
  /** Number of calls. */
  calls: number;
  /** Total milliseconds. */
  milliseconds: number;
}

/** The `cpu` backend: a core-tensor {@link Backend} plus profiling. */
export interface CpuBackend extends Backend {
  /** Per-kernel times since creation or the last reset, slowest first (empty unless `profile`). */
  profile(reset?: boolean): KernelProfile[];
}

/**
 * Creates the native CPU backend. Throws a `CpuBackendError` (`addon_unavailable`) when the addon
 * cannot load; `@llmkit/backend-cpu/register` checks that first.
 *
 * @example
 * ```ts
 * import { setBackend } from '@llmkit/core-tensor';
 * import { registerBackend } from '@llmkit/core-tensor/backend';
 * registerBackend('cpu', () => createCpuBackend(), 20);
 * await setBackend('cpu');
 * ```
 */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  const native = nativeKernels();
  if (options.threads !== undefined) native.setThreads(options.threads);
  const name = options.name ?? 'cpu';
  const js = createJsBackend({ name, maxPooledBytes: options.maxPooledBytes ?? 512 * 1024 * 1024 });
  const timings = new Map<string, KernelProfile>();
  const record = (kernel: string, started: number) => {
    let entry = timings.get(kernel);
    if (!entry) {
      entry = { kernel, calls: 0, milliseconds: 0 };
      timings.set(kernel, entry);
    }
    entry.calls++;
    entry.milliseconds += performance.now() - started;
  };
  const runNative = (
    kernelName: string,
    inputs: readonly KernelTensor[],
    outputs: readonly KernelTensor[],
    attributes: KernelAttributes,
  ): boolean => {
    const kernel = NATIVE[kernelName];
    if (!kernel) return false;
    try {
      return kernel(native, inputs, outputs, attributes);
    } catch (error) {
      // The addon rejected an argument (say, a target out of range). Checks run before any
      // output is written, so the js kernel can run and raise core-tensor's own error.
      if (error instanceof RangeError) return false;
      throw error;
    }
  };
  return {
    name,
    computeDTypes: js.computeDTypes,
    allocate: (dtype, size) => js.allocate(dtype, size),
    allocateZeros: (dtype, size) => js.allocateZeros!(dtype, size),
    write: (buffer: BackendBuffer, data) => js.write(buffer, data),
    read: (buffer: BackendBuffer) => js.read(buffer),
    readSync: (buffer: BackendBuffer) => js.readSync!(buffer),
    free: (buffer: BackendBuffer) => js.free(buffer),
    supports: (kernelName: string) => js.supports(kernelName),
    run(kernelName, inputs, outputs, attributes) {
      const started = options.profile ? performance.now() : 0;
      if (runNative(kernelName, inputs, outputs, attributes)) {
        if (options.profile) record(attributeName(kernelName, attributes), started);
        return;
      }
      js.run(kernelName, inputs, outputs, attributes);
      if (options.profile) record(`${attributeName(kernelName, attributes)} (js)`, started);
    },
    memory: () => js.memory(),
    releasePool: () => js.releasePool?.(),
    profile(reset = false) {
      const list = [...timings.values()].sort((a, b) => b.milliseconds - a.milliseconds);
      if (reset) timings.clear();
      return list.map((entry) => ({ ...entry }));
    },
  };
}

/** `unary:exp`, `binary:add`, ...: element-wise kernels are profiled per op. */
function attributeName(kernelName: string, attributes: KernelAttributes): string {
  return typeof attributes.op === 'string' ? `${kernelName}:${attributes.op}` : kernelName;
}
