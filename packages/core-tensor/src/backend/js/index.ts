import { type DType, type TypedArray, typedArrayMatches } from '../../dtype.js';
import { TensorError } from '../../errors.js';
import type { Backend, BackendBuffer, KernelAttributes, KernelTensor } from '../types.js';
import { BufferPool, dataOf, JsBuffer } from './buffer.js';
import { binary, cast, copy, fill, geluBackward, unary, where } from './elementwise.js';
import { adamw } from './adamw.js';
import { attention, attentionBackward } from './fused-attention.js';
import { crossEntropy, crossEntropyBackward, embeddingBackward } from './fused-loss.js';
import { layerNorm, layerNormBackward, rmsNorm, softmax } from './fused-norm.js';
import { rope } from './fused-rope.js';
import { gather, scatterAdd } from './indexing.js';
import { matmul } from './matmul.js';
import { quantizedMatmul } from './quantized.js';
import { reduce } from './reduce.js';

type Kernel = (
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attributes: KernelAttributes,
) => void;

/** The js kernels by name: the living definition of every kernel of the Backend interface. */
const KERNELS: Record<string, Kernel> = {
  fill,
  copy,
  cast,
  unary,
  binary,
  where,
  reduce,
  matmul,
  gather,
  scatterAdd,
  softmax,
  layerNorm,
  layerNormBackward,
  crossEntropy,
  crossEntropyBackward,
  attention,
  attentionBackward,
  geluBackward,
  embeddingBackward,
  adamw,
  quantizedMatmul,
  rmsNorm,
  rope,
};

/** Options of {@link createJsBackend}. */
export interface JsBackendOptions {
  /** Registry name (default `js`). */
  name?: string;
  /** Freed bytes kept for reuse (default 256 MiB). */
  maxPooledBytes?: number;
  /** Kernels to leave out, so core's composed fallbacks can be tested (default none). */
  withoutKernels?: readonly string[];
}

/**
 * Creates the reference backend: plain TypeScript over typed arrays, float64 math, computing in
 * float32, float64, int32 and bool. It is the definition other backends are tested against.
 *
 * @example
 * ```ts
 * registerBackend('js-plain', () => createJsBackend({ withoutKernels: ['softmax'] }));
 * ```
 */
export function createJsBackend(options: JsBackendOptions = {}): Backend {
  const pool = new BufferPool(options.maxPooledBytes ?? 256 * 1024 * 1024);
  const without = new Set(options.withoutKernels ?? []);
  return {
    name: options.name ?? 'js',
    computeDTypes: ['float32', 'float64', 'int32', 'bool'],
    allocate: (dtype: DType, size: number) => pool.allocate(dtype, size),
    allocateZeros: (dtype: DType, size: number) => pool.allocate(dtype, size, true),
    write(buffer: BackendBuffer, data: TypedArray) {
      const target = dataOf(buffer);
      if (!typedArrayMatches(buffer.dtype, data) || data.length !== buffer.size) {
        throw new TensorError(
          'invalid_argument',
          `js backend: write of ${data.constructor.name}(${data.length}) into a ${buffer.dtype} buffer of ${buffer.size}`,
        );
      }
      (target as Float32Array).set(data as Float32Array);
    },
    read: async (buffer: BackendBuffer) => dataOf(buffer).slice(),
    readSync: (buffer: BackendBuffer) => dataOf(buffer).slice(),
    free(buffer: BackendBuffer) {
      if (!(buffer instanceof JsBuffer))
        throw new TensorError('backend', 'js backend: foreign buffer');
      pool.release(buffer);
    },
    supports: (name: string) => name in KERNELS && !without.has(name),
    run(name, inputs, outputs, attributes) {
      const kernel = KERNELS[name];
      if (!kernel || without.has(name)) {
        throw new TensorError('unsupported', `js backend: no kernel named '${name}'`);
      }
      kernel(inputs, outputs, attributes);
    },
    memory: () => pool.memory(),
    releasePool: () => pool.clear(),
  };
}
