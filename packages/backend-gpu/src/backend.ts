// The `webgpu` backend: core-tensor's Backend interface over WGSL kernels (see kernels/).
import type { DType, TypedArray } from '@llmkit/core-tensor';
import type {
  Backend,
  BackendBuffer,
  BackendMemory,
  KernelAttributes,
  KernelTensor,
} from '@llmkit/core-tensor/backend';
import { TensorError } from '@llmkit/core-tensor';
import { typedArrayMatches } from '@llmkit/core-tensor/backend';
import { GpuBuffer, GpuBufferPool, storedBytes } from './buffers.js';
import { type DeviceOptions, openDevice } from './device.js';
import { WebGpuError } from './errors.js';
import { KERNELS } from './kernels/index.js';
import { roundActivations, takesInt8Activations } from './kernels/quantized.js';
import { Runtime } from './runtime.js';

/** Options of {@link createWebGpuBackend}. */
export interface WebGpuBackendOptions extends DeviceOptions {
  /** Registry name (default `webgpu`). */
  name?: string;
  /** Freed bytes kept for reuse (default 1 GiB). */
  maxPooledBytes?: number;
  /**
   * Submit every kernel alone inside GPU error scopes so that a GPU error names the kernel and
   * its shapes (default false; also on when the environment variable LLMKIT_WEBGPU_DEBUG=1).
   */
  debug?: boolean;
}

/** The webgpu backend: a core-tensor Backend plus access to its device and command stream. */
export interface WebGpuBackend extends Backend {
  /** The GPU device. */
  readonly device: GPUDevice;
  /** One line naming the adapter. */
  readonly adapterDescription: string;
  /** Submits every kernel encoded so far (reads do this themselves). */
  flush(): void;
  /** Waits until every queued kernel has run; throws GPU errors seen meanwhile. */
  synchronize(): Promise<void>;
  /** Kernel launches, submits and compiled pipelines so far. */
  readonly counters: Readonly<{ dispatches: number; submits: number; pipelines: number }>;
  /** Destroys the device; the backend is unusable afterwards. */
  destroy(): void;
}

function debugFromEnvironment(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  return env?.LLMKIT_WEBGPU_DEBUG === '1';
}

/**
 * Converts a typed array of `dtype` to the words the GPU stores (see buffers.ts): the bytes
 * themselves, padded to whole words; bool (Uint8Array on the host) widens to a word each.
 */
function toWords(dtype: DType, data: TypedArray): Uint32Array {
  if (dtype === 'bool') return Uint32Array.from(data as Uint8Array);
  if (data.byteLength % 4 === 0 && data.byteOffset % 4 === 0)
    return new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  const words = new Uint32Array(Math.ceil(data.byteLength / 4));
  new Uint8Array(words.buffer).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return words;
}

/** Converts stored words back to the typed array of `dtype`. */
function fromWords(dtype: DType, bytes: ArrayBuffer, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(bytes, 0, size);
    case 'int32':
      return new Int32Array(bytes, 0, size);
    case 'float64':
      return new Float64Array(bytes, 0, size);
    case 'int64':
      return new BigInt64Array(bytes, 0, size);
    case 'int8':
      return new Int8Array(bytes.slice(0, size));
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(bytes.slice(0, 2 * size));
    case 'bool':
      return Uint8Array.from(new Uint32Array(bytes, 0, size));
    default:
      return new Uint8Array(bytes.slice(0, size));
  }
}

function checkBuffer(buffer: BackendBuffer): GpuBuffer {
  if (!(buffer instanceof GpuBuffer)) {
    throw new TensorError(
      'backend',
      'webgpu backend: buffer was not allocated by the webgpu backend',
    );
  }
  if (buffer.freed) throw new TensorError('disposed', 'webgpu backend: buffer used after free');
  return buffer;
}

/**
 * Opens a WebGPU device (Dawn's `webgpu` package in Node, `navigator.gpu` in a browser) and
 * returns the backend over it. Throws a {@link WebGpuError} with code `no_adapter` when there
 * is no adapter.
 *
 * @example
 * ```ts
 * import { setBackend, tensor } from '@llmkit/core-tensor';
 * import { registerBackend } from '@llmkit/core-tensor/backend';
 * const backend = await createWebGpuBackend();
 * registerBackend('webgpu', () => backend, 30);
 * await setBackend('webgpu');
 * console.log(await tensor([1, 2, 3]).mul(2).data()); // Float32Array [2, 4, 6]
 * ```
 */
export async function createWebGpuBackend(
  options: WebGpuBackendOptions = {},
): Promise<WebGpuBackend> {
  const opened = await openDevice(options);
  const { device } = opened;
  const runtime = new Runtime(device, { debug: options.debug ?? debugFromEnvironment() });
  const pool = new GpuBufferPool(
    device,
    options.maxPooledBytes ?? 2 ** 30,
    Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize),
    () => runtime.flush(),
  );
  const backend: WebGpuBackend = {
    name: options.name ?? 'webgpu',
    computeDTypes: ['float32', 'int32', 'bool'],
    device,
    adapterDescription: opened.description,
    counters: runtime.counters,
    allocate: (dtype: DType, size: number) => pool.allocate(dtype, size),
    write(buffer: BackendBuffer, data: TypedArray) {
      const target = checkBuffer(buffer);
      if (!typedArrayMatches(buffer.dtype, data) || data.length !== buffer.size) {
        throw new TensorError(
          'invalid_argument',
          `webgpu backend: write of ${data.constructor.name}(${data.length}) into a ${buffer.dtype} buffer of ${buffer.size}`,
        );
      }
      let words = toWords(buffer.dtype, data);
      if (words.byteOffset % 4 !== 0) words = new Uint32Array(words);
      runtime.upload(target, words);
    },
    async read(buffer: BackendBuffer) {
      const source = checkBuffer(buffer);
      const bytes = storedBytes(source.dtype, source.size);
      if (bytes === 0) {
        runtime.throwIfFailed();
        return fromWords(source.dtype, new ArrayBuffer(0), 0);
      }
      return fromWords(source.dtype, await runtime.read(source, bytes), source.size);
    },
    free(buffer: BackendBuffer) {
      if (!(buffer instanceof GpuBuffer))
        throw new TensorError('backend', 'webgpu backend: foreign buffer');
      pool.release(buffer);
    },
    supports: (name: string) => name in KERNELS,
    run(
      name: string,
      inputs: readonly KernelTensor[],
      outputs: readonly KernelTensor[],
      attributes: KernelAttributes,
    ) {
      const kernel = KERNELS[name];
      if (!kernel)
        throw new TensorError('unsupported', `webgpu backend: no kernel named '${name}'`);
      for (const t of [...inputs, ...outputs]) checkBuffer(t.buffer);
      if (name === 'quantizedMatmul' && takesInt8Activations(attributes)) {
        // x rounded as 8-bit activations into a temporary, then the product on it
        const [x, ...parts] = inputs;
        const rounded = pool.allocate('float32', x.shape[0] * x.shape[1]);
        roundActivations(runtime, x, rounded);
        const input = { ...x, buffer: rounded, offset: 0 };
        kernel(runtime, [input, ...parts], outputs, { ...attributes, activations: 'float32' });
        pool.release(rounded);
        return;
      }
      // WebGPU forbids binding one buffer as both read-only and writable in a launch: inputs
      // that alias an output (outside the in-place kernels) are copied first.
      const aliased =
        name === 'adamw' ? [] : inputs.filter((i) => outputs.some((o) => o.buffer === i.buffer));
      if (aliased.length === 0) {
        kernel(runtime, inputs, outputs, attributes);
        return;
      }
      const temporaries: GpuBuffer[] = [];
      const fresh = inputs.map((input) => {
        if (!aliased.includes(input)) return input;
        const copy = pool.allocate(input.dtype, input.buffer.size);
        temporaries.push(copy);
        const bytes = storedBytes(input.dtype, input.buffer.size);
        runtime.copy((input.buffer as GpuBuffer).gpu, 0, copy.gpu, 0, bytes);
        return { ...input, buffer: copy };
      });
      kernel(runtime, fresh, outputs, attributes);
      for (const t of temporaries) pool.release(t);
    },
    memory: (): BackendMemory => pool.memory(),
    // queued kernels may still use freed buffers: submit them before destroying any
    releasePool: () => {
      runtime.flush();
      pool.clear();
    },
    flush: () => runtime.flush(),
    synchronize: () => runtime.synchronize(),
    destroy() {
      runtime.flush();
      pool.clear();
      runtime.destroy();
      device.destroy();
    },
  };
  return backend;
}

export { WebGpuError };
