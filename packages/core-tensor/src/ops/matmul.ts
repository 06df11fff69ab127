// Matrix multiplication: batched, broadcasting batch dimensions, with PyTorch's 1-D rules.
import { record } from '../autograd/node.js';
import { isFloatDType } from '../dtype.js';
import { formatShape, TensorError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { backendOf, checkComputeDType, runKernel } from './kernel.js';
import { broadcastView, denseCopy, reshape } from './shape.js';

/** A view the matmul kernel accepts: row-major or column-major in its last two dims. */
function matrixLayout(t: Tensor): { view: Tensor; transposed: boolean } {
  const r = t.rank;
  const [rows, cols] = [t.shape[r - 2], t.shape[r - 1]];
  if (t.strides[r - 1] === 1 || cols === 1) return { view: t, transposed: false };
  if (t.strides[r - 2] === 1 || rows === 1) return { view: t, transposed: true };
  return { view: denseCopy(t), transposed: false };
}

/**
 * Matrix product `a @ b`. Shapes `[..., M, K] @ [..., K, N] -> [..., M, N]` with batch dimensions
 * broadcast; a 1-D `a` is a row vector and a 1-D `b` a column vector (that dimension is removed).
 *
 * @example
 * ```ts
 * matmul(randn([8, 2, 3]), randn([3, 4])); // shape [8,2,4]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 0 || b.rank === 0) {
    throw new TensorError(
      'invalid_argument',
      `matmul: scalars are not matrices: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`,
    );
  }
  if (a.dtype !== b.dtype)
    throw new TensorError('dtype_mismatch', `matmul: dtype mismatch: ${a.dtype} vs ${b.dtype}`);
  if (!isFloatDType(a.dtype))
    throw new TensorError('dtype_mismatch', `matmul: expected float tensors, got ${a.dtype}`);
  const K = a.shape[a.rank - 1];
  const Kb = b.rank === 1 ? b.shape[0] : b.shape[b.rank - 2];
  if (K !== Kb) {
    throw new TensorError(
      'shape_mismatch',
      `matmul: inner dimensions differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`,
    );
  }
  if (a.rank === 1 || b.rank === 1) {
    const a2 = a.rank === 1 ? reshape(a, [1, K]) : a;
    const b2 = b.rank === 1 ? reshape(b, [K, 1]) : b;
    const product = matmul(a2, b2);
    const shape = product.shape.slice();
    if (b.rank === 1) shape.pop();
    if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
    const out = reshape(product, shape);
    for (const t of [a2, b2, product]) if (t !== a && t !== b) t.dispose();
    return out;
  }
  if (a.rank > 2 && b.rank === 2 && a.isContiguous) {
    // [..., M, K] @ [K, N] is one [(...M), K] @ [K, N] product: fewer, larger matrices.
    const rows = reshape(a, [-1, K]);
    const product = matmul(rows, b);
    const out = reshape(product, [...a.shape.slice(0, -1), b.shape[1]]);
    rows.dispose();
    product.dispose();
    return out;
  }
  const backend = backendOf('matmul', [a, b]);
  checkComputeDType('matmul', backend, a.dtype);
  const M = a.shape[a.rank - 2];
  const N = b.shape[b.rank - 1];
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  const av = broadcastView(a, [...batch, M, K]);
  const bv = broadcastView(b, [...batch, K, N]);
  const left = matrixLayout(av);
  const right = matrixLayout(bv);
  const [out] = runKernel(
    'matmul',
    [left.view, right.view],
    [{ shape: [...batch, M, N], dtype: a.dtype }],
    { transposeA: left.transposed, transposeB: right.transposed },
    backend,
  );
  for (const t of new Set([av, bv, left.view, right.view])) t.dispose();
  return record('matmul', [a, b], out, [a, b]);
}
