// Access to the typed arrays behind kernel tensors.
//
// ADAPTER (see README "How it works"): the cpu backend allocates its buffers through an inner
// instance of core-tensor's `js` backend, so any kernel the native code does not cover (other
// dtypes, masks, unusual layouts) runs on the js kernels with the very same buffers. A js buffer
// keeps its typed array in a `data` field and a `freed` flag; core-tensor does not export that
// class, so this file is the one place that relies on the shape. If core-tensor exports a buffer
// accessor later, only this file changes.
import type { BackendBuffer, KernelTensor } from '@llmkit/core-tensor/backend';
import { CpuBackendError } from '../errors.js';

interface JsBufferShape {
  readonly data?: unknown;
  readonly freed?: boolean;
}

/** The typed array of a buffer allocated by the inner js backend. */
export function arrayOf(buffer: BackendBuffer): unknown {
  const shaped = buffer as unknown as JsBufferShape;
  if (shaped.freed)
    throw new CpuBackendError('invalid_argument', 'cpu backend: buffer used after free');
  if (!ArrayBuffer.isView(shaped.data)) {
    throw new CpuBackendError(
      'invalid_argument',
      'cpu backend: buffer was not allocated by the cpu backend',
    );
  }
  return shaped.data;
}

/** The Float32Array of a float32 tensor, or undefined for other dtypes. */
export function floatsOf(t: KernelTensor): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  return arrayOf(t.buffer) as Float32Array;
}

/** The Int32Array of an int32 tensor, or undefined for other dtypes. */
export function intsOf(t: KernelTensor): Int32Array | undefined {
  if (t.dtype !== 'int32') return undefined;
  return arrayOf(t.buffer) as Int32Array;
}

/** The elements of a contiguous tensor from its offset on (a view, no copy). */
export function from<T extends Float32Array | Int32Array>(array: T, offset: number): T {
  return (offset === 0 ? array : array.subarray(offset)) as T;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when the view is row-major contiguous (size-1 dimensions may have any stride). */
export function isContiguous(t: KernelTensor): boolean {
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.strides[d] !== expected) return false;
    expected *= t.shape[d];
  }
  return true;
}
