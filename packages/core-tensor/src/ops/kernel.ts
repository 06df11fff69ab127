// Running kernels from ops: output allocation, backend and dtype checks.
import { getBackend } from '../backend/registry.js';
import type { Backend, KernelAttributes } from '../backend/types.js';
import type { DType } from '../dtype.js';
import { Storage } from '../engine.js';
import { TensorError } from '../errors.js';
import { type Shape, shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Allocates an uninitialised contiguous tensor. */
export function allocate(backend: Backend, shape: Shape, dtype: DType): Tensor {
  const buffer = backend.allocate(dtype, shapeSize(shape));
  return new Tensor(new Storage(backend, buffer), shape, dtype);
}

/** Allocates a contiguous tensor of zeros without writing it, or null when the backend cannot. */
export function allocateZeros(backend: Backend, shape: Shape, dtype: DType): Tensor | null {
  if (!backend.allocateZeros) return null;
  const buffer = backend.allocateZeros(dtype, shapeSize(shape));
  return new Tensor(new Storage(backend, buffer), shape, dtype);
}

/** The backend shared by `inputs` (or the active one); throws when they differ. */
export function backendOf(what: string, inputs: readonly Tensor[]): Backend {
  const backend = inputs.length ? inputs[0].backend : getBackend();
  for (const t of inputs) {
    if (t.backend !== backend) {
      throw new TensorError(
        'backend',
        `${what}: tensors live on different backends ('${backend.name}' and '${t.backend.name}'); move one with toBackend`,
      );
    }
  }
  return backend;
}

/** Throws unless the backend computes in `dtype`. */
export function checkComputeDType(what: string, backend: Backend, dtype: DType): void {
  if (!backend.computeDTypes.includes(dtype)) {
    throw new TensorError(
      'dtype_mismatch',
      `${what}: backend '${backend.name}' does not compute in ${dtype} (it computes in ${backend.computeDTypes.join(', ')}); convert with .to()`,
    );
  }
}

/** Runs kernel `name` on `inputs`, allocating one contiguous output per `outputs` entry. */
export function runKernel(
  name: string,
  inputs: readonly Tensor[],
  outputs: readonly { shape: Shape; dtype: DType }[],
  attributes: KernelAttributes = {},
  backend: Backend = backendOf(name, inputs),
): Tensor[] {
  const made = outputs.map((o) => allocate(backend, o.shape, o.dtype));
  try {
    backend.run(
      name,
      inputs.map((t) => t.kernelView()),
      made.map((t) => t.kernelView()),
      attributes,
    );
  } catch (error) {
    for (const t of made) t.dispose();
    throw error;
  }
  return made;
}
