// Joining and splitting along an axis: cat, stack, split, chunk.
import { record } from '../autograd/node.js';
import { formatShape, TensorError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { allocate, backendOf } from './kernel.js';
import { narrow, unsqueeze } from './shape.js';

/**
 * Concatenates tensors along `axis` (all other dimensions must match).
 *
 * @example
 * ```ts
 * cat([zeros([2, 3]), ones([1, 3])], 0); // shape [3,3]
 * ```
 */
export function cat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0)
    throw new TensorError('invalid_argument', 'cat: expected at least one tensor');
  const first = tensors[0];
  const a = normalizeAxis(axis, first.rank, 'cat');
  for (const t of tensors) {
    const same = t.rank === first.rank && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!same) {
      throw new TensorError(
        'shape_mismatch',
        `cat: shapes ${formatShape(first.shape)} and ${formatShape(t.shape)} differ outside axis ${a}`,
      );
    }
    if (t.dtype !== first.dtype)
      throw new TensorError('dtype_mismatch', `cat: dtype mismatch: ${first.dtype} vs ${t.dtype}`);
  }
  const backend = backendOf('cat', tensors);
  const sizes = tensors.map((t) => t.shape[a]);
  const shape = first.shape.slice();
  shape[a] = sizes.reduce((s, d) => s + d, 0);
  const out = allocate(backend, shape, first.dtype);
  let start = 0;
  for (const t of tensors) {
    const target = { ...out.kernelView(), shape: t.shape, offset: start * out.strides[a] };
    backend.run('copy', [t.kernelView()], [target], {});
    start += t.shape[a];
  }
  return record('cat', tensors, out, [], { axis: a, sizes });
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0)
    throw new TensorError('invalid_argument', 'stack: expected at least one tensor');
  const a = normalizeAxis(axis, tensors[0].rank + 1, 'stack');
  const expanded = tensors.map((t) => unsqueeze(t, a));
  const out = cat(expanded, a);
  for (const t of expanded) t.dispose();
  return out;
}

/**
 * Splits along `axis` into pieces of `size` (the last may be smaller) or of the given sizes.
 * The pieces are views.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = normalizeAxis(axis, x.rank, 'split');
  const length = x.shape[a];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!(sizes > 0))
      throw new TensorError('invalid_argument', `split: size must be positive, got ${sizes}`);
    list = [];
    for (let s = 0; s < length; s += sizes) list.push(Math.min(sizes, length - s));
  } else {
    list = sizes.slice();
    if (list.reduce((s, d) => s + d, 0) !== length) {
      throw new TensorError(
        'shape_mismatch',
        `split: sizes [${list}] do not sum to ${length} (axis ${a})`,
      );
    }
  }
  let start = 0;
  return list.map((size) => {
    const piece = narrow(x, a, start, size);
    start += size;
    return piece;
  });
}

/** Splits into `chunks` nearly equal views along `axis` (like torch.chunk). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  const a = normalizeAxis(axis, x.rank, 'chunk');
  return split(x, Math.max(1, Math.ceil(x.shape[a] / chunks)), a);
}
