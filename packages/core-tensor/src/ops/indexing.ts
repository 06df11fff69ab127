// Indexing ops: gather / scatterAdd along an axis, indexSelect, embedding, oneHot, tril / triu.
import { record } from '../autograd/node.js';
import { isHalfDType } from '../dtype.js';
import { formatShape, TensorError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { arange, fromValues } from './creation.js';
import { eq, where } from './elementwise.js';
import { backendOf, runKernel } from './kernel.js';
import { broadcastView, denseCopy, reshape, reshapeNoGrad } from './shape.js';

function checkIndex(what: string, x: Tensor, index: Tensor): void {
  if (index.dtype !== 'int32')
    throw new TensorError('dtype_mismatch', `${what}: index must be int32, got ${index.dtype}`);
  if (index.rank !== x.rank) {
    throw new TensorError(
      'shape_mismatch',
      `${what}: index ${formatShape(index.shape)} and input ${formatShape(x.shape)} differ in rank`,
    );
  }
}

/**
 * torch.gather: `out[i][j] = x[i][index[i][j]]` for axis 1; `index` (int32) has x's rank.
 *
 * @example
 * ```ts
 * gather(logProbs, 1, targets.unsqueeze(1)); // pick one column per row
 * ```
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('gather', x, index);
  const a = normalizeAxis(axis, x.rank, 'gather');
  const [out] = runKernel('gather', [x, index], [{ shape: index.shape, dtype: x.dtype }], {
    axis: a,
  });
  return record('gather', [x, index], out, [index], { axis: a });
}

/** Returns a copy of `x` with `source` added at `index` along `axis` (the inverse of gather). */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, source: Tensor): Tensor {
  checkIndex('scatterAdd', x, index);
  const a = normalizeAxis(axis, x.rank, 'scatterAdd');
  if (source.dtype !== x.dtype)
    throw new TensorError(
      'dtype_mismatch',
      `scatterAdd: dtype mismatch: ${x.dtype} vs ${source.dtype}`,
    );
  const backend = backendOf('scatterAdd', [x, index, source]);
  const out = denseCopy(x);
  backend.run('scatterAdd', [source.kernelView(), index.kernelView()], [out.kernelView()], {
    axis: a,
  });
  return record('scatterAdd', [x, index, source], out, [index], { axis: a });
}

/** Selects entries `indices` (1-D int32) along `axis`. */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  const a = normalizeAxis(axis, x.rank, 'indexSelect');
  if (indices.rank !== 1)
    throw new TensorError(
      'shape_mismatch',
      `indexSelect: indices must be 1-D, got ${formatShape(indices.shape)}`,
    );
  const shape = x.shape.slice();
  shape[a] = indices.shape[0];
  const column = reshapeNoGrad(
    indices,
    x.shape.map((_, i) => (i === a ? indices.shape[0] : 1)),
  );
  const index = broadcastView(column, shape);
  column.dispose();
  const out = gather(x, a, index);
  index.dispose();
  return out;
}

/**
 * Looks up rows of `weight [V, C]` for int32 `ids` of any shape: output `[...ids.shape, C]`
 * (float32 for a bfloat16 / float16 table, which gets no gradient). Its gradient uses the
 * backend's `embeddingBackward` kernel when present.
 */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  if (typeof (ids as Partial<Tensor> | null)?.dtype !== 'string')
    throw new TensorError(
      'invalid_argument',
      `embedding: ids must be an int32 Tensor, got ${Array.isArray(ids) ? 'an array' : typeof ids}; wrap them: tensor(ids, { dtype: 'int32' })`,
    );
  if (ids.dtype !== 'int32')
    throw new TensorError('dtype_mismatch', `embedding: ids must be int32, got ${ids.dtype}`);
  if (weight.rank !== 2)
    throw new TensorError(
      'shape_mismatch',
      `embedding: weight must be [V, C], got ${formatShape(weight.shape)}`,
    );
  const [V, C] = weight.shape;
  const flat = reshapeNoGrad(ids, [ids.size]);
  const column = reshapeNoGrad(flat, [ids.size, 1]);
  const index = broadcastView(column, [ids.size, C]);
  const [rows] = runKernel(
    'gather',
    [weight, index],
    [{ shape: [ids.size, C], dtype: weight.dtype }],
    { axis: 0 },
  );
  // a bfloat16 / float16 table (a model kept in its stored dtype) gives float32 rows
  const float = isHalfDType(weight.dtype) ? cast(rows, 'float32') : rows;
  const out = reshape(float, [...ids.shape, C]);
  for (const t of [column, index, rows, float]) t.dispose();
  record('embedding', [weight], out, [flat], { numEmbeddings: V });
  flat.dispose();
  return out;
}

/** One-hot float32 encoding of int32 `ids`: shape `[...ids.shape, numClasses]`. */
export function oneHot(ids: Tensor, numClasses: number): Tensor {
  const classes = arange(0, numClasses, 1, { dtype: 'int32', backend: ids.backend.name });
  const column = reshape(ids, [...ids.shape, 1]);
  const hits = eq(column, classes);
  const out = hits.to('float32');
  for (const t of [classes, column, hits]) t.dispose();
  return out;
}

function triangle(x: Tensor, diagonal: number, lower: boolean): Tensor {
  if (x.rank < 2)
    throw new TensorError(
      'shape_mismatch',
      `${lower ? 'tril' : 'triu'}: expected rank >= 2, got ${formatShape(x.shape)}`,
    );
  const [rows, cols] = x.shape.slice(-2);
  const keep = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++)
      keep[i * cols + j] = (lower ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
  }
  const mask = fromValues(keep, [rows, cols], { dtype: 'bool', backend: x.backend.name });
  const out = where(mask, x, 0);
  mask.dispose();
  return out;
}

/** Keeps the lower triangle (j - i <= diagonal) of the last two dims, zeroing the rest. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal, true);
}

/** Keeps the upper triangle (j - i >= diagonal) of the last two dims, zeroing the rest. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle(x, diagonal, false);
}
