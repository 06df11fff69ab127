// dtype conversion and in-place assignment.
import { record } from '../autograd/node.js';
import type { DType } from '../dtype.js';
import { formatShape, TensorError } from '../errors.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { runKernel } from './kernel.js';
import { viewOf } from './shape.js';

/**
 * Converts `x` to `dtype` (a new tensor; a view when the dtype is already `dtype`). Between float
 * dtypes the conversion is differentiable.
 *
 * @example
 * ```ts
 * const weights = loaded.to('float32'); // from bfloat16
 * ```
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  const out =
    x.dtype === dtype
      ? viewOf(x, x.shape, x.strides, x.offset)
      : runKernel('cast', [x], [{ shape: x.shape, dtype }], { dtype })[0];
  return record('cast', [x], out, [], { from: x.dtype });
}

/** Copies `value` into `target`'s storage in place (shapes and dtypes must match; no autograd). */
export function assign(target: Tensor, value: Tensor): void {
  if (!sameShape(target.shape, value.shape) || target.dtype !== value.dtype) {
    throw new TensorError(
      'shape_mismatch',
      `assign: cannot copy ${value.dtype} ${formatShape(value.shape)} into ${target.dtype} ${formatShape(target.shape)}`,
    );
  }
  if (target.backend !== value.backend)
    throw new TensorError('backend', 'assign: tensors live on different backends');
  target.backend.run('copy', [value.kernelView()], [target.kernelView()], {});
}
