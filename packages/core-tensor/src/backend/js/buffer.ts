import { DTYPE_BYTES, type DType, makeTypedArray, type TypedArray } from '../../dtype.js';
import { TensorError } from '../../errors.js';
import type { BackendBuffer, BackendMemory, KernelTensor } from '../types.js';

/** A js-backend buffer: a typed array (`data`) plus a freed flag that catches use after free. */
export class JsBuffer implements BackendBuffer {
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** The elements (the storage typed array of `dtype`). */
  readonly data: TypedArray;
  /** True while the buffer sits in the pool after `free`. */
  freed = false;

  constructor(dtype: DType, size: number, data?: TypedArray) {
    this.dtype = dtype;
    this.size = size;
    this.data = data ?? makeTypedArray(dtype, size);
  }
}

/**
 * Returns the typed array behind a js-backend buffer or kernel tensor, checking that it is live.
 * Backends that build on js buffers (the cpu backend allocates through an inner js backend) use
 * it to reach the memory without copying.
 *
 * @example
 * ```ts
 * const floats = jsBufferData(view) as Float32Array;
 * ```
 */
export function dataOf(t: KernelTensor | BackendBuffer): TypedArray {
  const buffer = ('buffer' in t ? t.buffer : t) as JsBuffer;
  if (!(buffer instanceof JsBuffer)) {
    throw new TensorError('backend', 'js backend: buffer was not allocated by the js backend');
  }
  if (buffer.freed) throw new TensorError('disposed', 'js backend: buffer used after free');
  return buffer.data;
}

/** Same as {@link dataOf} for float kernels, typed as an indexable number array. */
export function floatsOf(t: KernelTensor): Float32Array | Float64Array {
  return dataOf(t) as Float32Array | Float64Array;
}

/**
 * A pool of freed buffers keyed by dtype and size: training loops allocate the same shapes every
 * step, so reuse avoids garbage-collector churn. Pooled bytes are capped.
 */
export class BufferPool {
  private readonly free = new Map<string, JsBuffer[]>();
  private live = 0;
  private liveBytes = 0;
  private pooled = 0;
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes: number) {}

  /** A buffer of `size` elements: a freed one of the same kind, or new (zeros) memory. */
  allocate(dtype: DType, size: number, zeroed = false): JsBuffer {
    const key = `${dtype}:${size}`;
    const list = this.free.get(key);
    let buffer = list?.pop();
    const bytes = size * DTYPE_BYTES[dtype];
    if (buffer) {
      if (zeroed) buffer.data.fill((dtype === 'int64' ? 0n : 0) as never);
      buffer.freed = false;
      this.pooled--;
      this.pooledBytes -= bytes;
    } else {
      buffer = new JsBuffer(dtype, size);
    }
    this.live++;
    this.liveBytes += bytes;
    return buffer;
  }

  release(buffer: JsBuffer): void {
    if (buffer.freed) throw new TensorError('disposed', 'js backend: buffer freed twice');
    buffer.freed = true;
    const bytes = buffer.size * DTYPE_BYTES[buffer.dtype];
    this.live--;
    this.liveBytes -= bytes;
    if (this.pooledBytes + bytes > this.maxPooledBytes) return;
    const key = `${buffer.dtype}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) {
      list = [];
      this.free.set(key, list);
    }
    list.push(buffer);
    this.pooled++;
    this.pooledBytes += bytes;
  }

  clear(): void {
    this.free.clear();
    this.pooled = 0;
    this.pooledBytes = 0;
  }

  memory(): BackendMemory {
    return {
      buffers: this.live,
      bytes: this.liveBytes,
      pooledBuffers: this.pooled,
      pooledBytes: this.pooledBytes,
    };
  }
}
