// GPU buffers of the webgpu backend and their pool. Elements are stored at their own width:
// float32/int32 one 32-bit word each, float64/int64 two, and the 8- and 16-bit storage types
// packed into words little-endian (int8/uint8 four a word, float16/bfloat16 two), so packed
// quantized weights and half-precision checkpoints take their real size on the GPU. WGSL has no
// 8- or 16-bit storage types without extensions: kernels read those lanes with shifts and write
// them with atomic and/or (see packed-wgsl.ts). bool is a compute type and keeps a word per
// element.
import type { DType } from '@llmkit/core-tensor';
import type { BackendBuffer, BackendMemory } from '@llmkit/core-tensor/backend';
import { WebGpuError } from './errors.js';

/** 32-bit words per element of the one- and two-word dtypes (packed types: see lanesPerWord). */
export function wordsPerElement(dtype: DType): number {
  return dtype === 'float64' || dtype === 'int64' ? 2 : 1;
}

/** Elements a 32-bit word holds: 4 for int8/uint8, 2 for float16/bfloat16, 1 otherwise. */
export function lanesPerWord(dtype: DType): number {
  if (dtype === 'int8' || dtype === 'uint8') return 4;
  if (dtype === 'float16' || dtype === 'bfloat16') return 2;
  return 1;
}

/** Bytes `size` elements of `dtype` take on the GPU (whole words). */
export function storedBytes(dtype: DType, size: number): number {
  return 4 * Math.ceil(size / lanesPerWord(dtype)) * wordsPerElement(dtype);
}

/** A webgpu-backend buffer: the GPU buffer plus bookkeeping. */
export class GpuBuffer implements BackendBuffer {
  freed = false;

  constructor(
    readonly dtype: DType,
    readonly size: number,
    /** The GPU buffer (possibly larger than needed: pooled by size class). */
    readonly gpu: GPUBuffer,
    /** Bytes of `gpu`. */
    readonly capacity: number,
  ) {}
}

/** Rounds a byte count up to its size class: 16-byte multiples, then 1/8-octave steps. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return b;
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

/**
 * Freed GPU buffers kept for reuse, keyed by size class: a training step allocates the same
 * shapes every time, and creating GPU buffers is far slower than reusing them.
 */
export class GpuBufferPool {
  private readonly pooled = new Map<number, GPUBuffer[]>();
  private live = 0;
  private liveBytes = 0;
  private pooledCount = 0;
  private pooledBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxPooledBytes: number,
    private readonly maxBufferBytes: number,
    /** Submits queued kernels (called before a buffer is destroyed). */
    private readonly beforeDestroy?: () => void,
  ) {}

  allocate(dtype: DType, size: number): GpuBuffer {
    if (!Number.isInteger(size) || size < 0) {
      throw new WebGpuError(
        'invalid_argument',
        `webgpu: cannot allocate ${size} elements of ${dtype}`,
      );
    }
    const bytes = sizeClass(storedBytes(dtype, size));
    if (bytes > this.maxBufferBytes) {
      throw new WebGpuError(
        'out_of_memory',
        `webgpu: a ${dtype} buffer of ${size} elements needs ${bytes} bytes, above this device's largest storage binding (${this.maxBufferBytes} bytes)`,
      );
    }
    let gpu = this.pooled.get(bytes)?.pop();
    if (gpu) {
      this.pooledCount--;
      this.pooledBytes -= bytes;
    } else {
      gpu = this.device.createBuffer({
        size: bytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
    }
    this.live++;
    this.liveBytes += bytes;
    return new GpuBuffer(dtype, size, gpu, bytes);
  }

  release(buffer: GpuBuffer): void {
    if (buffer.freed) throw new WebGpuError('invalid_argument', 'webgpu: buffer freed twice');
    buffer.freed = true;
    this.live--;
    this.liveBytes -= buffer.capacity;
    if (this.pooledBytes + buffer.capacity > this.maxPooledBytes) {
      // WebGPU defers destroying until submitted work using it has finished, but kernels still
      // being recorded would fail at submit: submit them first.
      this.beforeDestroy?.();
      buffer.gpu.destroy();
      return;
    }
    let list = this.pooled.get(buffer.capacity);
    if (!list) {
      list = [];
      this.pooled.set(buffer.capacity, list);
    }
    list.push(buffer.gpu);
    this.pooledCount++;
    this.pooledBytes += buffer.capacity;
  }

  clear(): void {
    for (const list of this.pooled.values()) for (const gpu of list) gpu.destroy();
    this.pooled.clear();
    this.pooledCount = 0;
    this.pooledBytes = 0;
  }

  memory(): BackendMemory {
    return {
      buffers: this.live,
      bytes: this.liveBytes,
      pooledBuffers: this.pooledCount,
      pooledBytes: this.pooledBytes,
    };
  }
}
