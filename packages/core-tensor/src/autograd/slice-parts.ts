// Gradients of slices, gathered before they are added up. The gradient of `slice(x)` is the
// output gradient placed into zeros of x's shape; when several slices of one tensor (q, k and v
// cut from one projection) all send gradients back, adding those mostly-zero tensors costs a
// fill and an add of the whole tensor per slice. Instead the engine keeps each slice's gradient
// with its position and writes them all into one tensor: a fill only where no slice covers, and
// an add only where slices overlap.
import { zeros } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { allocate } from '../ops/kernel.js';
import { denseCopy } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';

/** One slice's gradient and where the slice starts in the sliced tensor. */
export interface SlicePart {
  readonly grad: Tensor;
  readonly starts: readonly number[];
}

function overlaps(a: SlicePart, b: SlicePart): boolean {
  return a.starts.every((start, i) => {
    const otherStart = b.starts[i];
    return start < otherStart + b.grad.shape[i] && otherStart < start + a.grad.shape[i];
  });
}

/** The region of `out` where `part` lies, as a kernel view. */
function regionOf(out: Tensor, part: SlicePart) {
  const view = out.kernelView();
  const offset = part.starts.reduce((sum, start, i) => sum + start * out.strides[i], view.offset);
  return { ...view, shape: part.grad.shape, offset };
}

/**
 * The gradient of a tensor of `shape` from `dense` (gradients of other uses, or none) and the
 * gradients of slices of it. Consumes neither; returns a new tensor.
 */
export function assembleSliceParts(
  shape: readonly number[],
  dense: Tensor | undefined,
  parts: readonly SlicePart[],
): Tensor {
  const like = parts[0].grad;
  const disjoint = parts.every((p, i) => parts.every((q, j) => j <= i || !overlaps(p, q)));
  const covered = parts.reduce((n, p) => n + p.grad.size, 0);
  const whole = shape.reduce((n, d) => n * d, 1);
  let out: Tensor;
  if (dense) out = denseCopy(dense);
  else if (disjoint && covered === whole) out = allocate(like.backend, [...shape], like.dtype);
  else out = zeros([...shape], { dtype: like.dtype, backend: like.backend.name });
  // Without other gradients and without overlap, each region is written once: a plain copy.
  const plainCopy = !dense && disjoint;
  for (const part of parts) {
    const region = regionOf(out, part);
    if (plainCopy) {
      out.backend.run('copy', [part.grad.kernelView()], [region], {});
      continue;
    }
    const current = allocate(out.backend, part.grad.shape, out.dtype);
    out.backend.run('copy', [region], [current.kernelView()], {});
    const sum = add(current, part.grad);
    out.backend.run('copy', [sum.kernelView()], [region], {});
    current.dispose();
    sum.dispose();
  }
  return out;
}
