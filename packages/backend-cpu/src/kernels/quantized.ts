// core-tensor's optional `quantizedMatmul` kernel on the native code (src/kernels/quantized.cc):
// x @ W^T, or the input gradient x @ W, with W packed as fp16, bf16, int8, int4, nf4, q8_0 or
// q4_0 (layouts in core-tensor's src/backend/js/quantized.ts); attribute `activations: 'int8'`
// quantizes x to 8 bits in blocks of 32 first (llama.cpp's arithmetic). Inputs are contiguous and may
// start at an offset. Returns false (the js kernel runs) for float64 inputs or an addon built
// before the kernel existed.
import type { NativeKernels } from '../native.js';
import { arrayOf } from './tensors.js';

// The parts of core-tensor's KernelTensor and KernelAttributes this file reads, spelled out so it
// does not depend on which core-tensor entry point exports them.
interface KernelTensor {
  readonly buffer: Parameters<typeof arrayOf>[0];
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly offset: number;
}
type KernelAttributes = Readonly<Record<string, unknown>>;

/** Format codes, in the order of `enum QuantFormat` in quantized.h. */
export const QUANTIZED_FORMATS = ['fp16', 'bf16', 'int8', 'int4', 'nf4', 'q8_0', 'q4_0'] as const;

/** The bytes of a tensor's elements from its offset. */
function bytesOf(t: KernelTensor): Uint8Array {
  const array = arrayOf(t.buffer) as ArrayBufferView & { BYTES_PER_ELEMENT: number };
  const start = array.byteOffset + t.offset * array.BYTES_PER_ELEMENT;
  return new Uint8Array(array.buffer, start, array.byteLength - t.offset * array.BYTES_PER_ELEMENT);
}

function floatsFrom(t: KernelTensor | undefined): Float32Array | null {
  if (!t) return null;
  const array = arrayOf(t.buffer) as Float32Array;
  return array.subarray(t.offset);
}

const quantizedMatmul = (
  native: NativeKernels,
  [x, weight, scales, minimums]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attributes: KernelAttributes,
): boolean => {
  const code = QUANTIZED_FORMATS.indexOf(attributes.format as (typeof QUANTIZED_FORMATS)[number]);
  if (!native.quantizedMatmul || code < 0 || x.dtype !== 'float32' || out.dtype !== 'float32')
    return false;
  if ((scales && scales.dtype !== 'float32') || (minimums && minimums.dtype !== 'float32'))
    return false;
  const transposed = Boolean(attributes.transposed);
  const M = x.shape[0];
  const N = transposed ? x.shape[1] : out.shape[1];
  const K = transposed ? out.shape[1] : x.shape[1];
  native.quantizedMatmul(
    code,
    M,
    N,
    K,
    Number(attributes.groupSize ?? 0),
    attributes.symmetric !== false,
    transposed,
    floatsFrom(x) as Float32Array,
    bytesOf(weight),
    floatsFrom(scales),
    floatsFrom(minimums),
    floatsFrom(out) as Float32Array,
    attributes.activations === 'int8',
  );
  return true;
};

/** The quantized kernels by name. */
export const QUANTIZED = { quantizedMatmul };
