// Gradients of slices, gathered before they are added up. The gradient of `slice(x)` is the
// output gradient placed into zeros of x's shape; when several slices of one tensor (q, k and v
// cut from one projection) all send gradients back, adding those mostly-zero tensors costs a
// fill and an add of the whole tensor per slice. Instead backward keeps each slice's gradient
// with its position here and, when x's turn comes, writes them all into one tensor: a fill only
// where no slice covers, and an add only where slices overlap.
import { keep } from '../engine.js';
import { zeros } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { allocate } from '../ops/kernel.js';
import { denseCopy } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import type { Node } from './node.js';

/** One slice's gradient and where the slice starts in the sliced tensor. */
interface SlicePart {
  readonly grad: Tensor;
  readonly starts: readonly number[];
}

/**
 * The slices' gradients of each sliced node, kept until that node's turn in the backward walk.
 *
 * @example
 * ```ts
 * const slices = new SliceGradients();
 * if (!slices.defer(node, g)) runRule(node, g); // node = slice(x): kept for x
 * const gx = slices.merge(xNode, denseGradOfX); // one buffer for every slice of x
 * ```
 */
export class SliceGradients {
  private readonly parts = new Map<Node, SlicePart[]>();

  /**
   * Keeps `grad`, the gradient of `node`, for the node it slices, and returns true, when `node`
   * is a slice of a recorded (non-leaf) tensor; returns false otherwise (and for a freed graph,
   * so that the walk reports it).
   */
  defer(node: Node, grad: Tensor): boolean {
    const input = node.edges[0];
    if (node.op !== 'slice' || !input || !('node' in input) || node.released) return false;
    const list = this.parts.get(input.node) ?? [];
    list.push({ grad, starts: node.attributes.starts as number[] });
    this.parts.set(input.node, list);
    return true;
  }

  /**
   * The whole gradient of `node`: `dense` (the gradient from its other uses, or none) with the
   * gradients of its slices written in. Consumes `dense` and the slices' gradients; returns
   * `dense` itself when no slice of `node` sent one.
   */
  merge(node: Node, dense: Tensor | undefined): Tensor | undefined {
    const parts = this.parts.get(node);
    if (!parts) return dense;
    this.parts.delete(node);
    const whole = keep(assemble(node.outputShape, dense, parts));
    dense?.dispose();
    for (const part of parts) part.grad.dispose();
    return whole;
  }
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

/** A tensor of `shape`: `dense` (or zeros) plus each part at its place. Consumes nothing. */
function assemble(
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
