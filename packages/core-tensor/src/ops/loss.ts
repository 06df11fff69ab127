// Losses: crossEntropy (one autograd node per row loss, fused kernels when present) and mseLoss.
import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { tidy } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { div, mul, ne, neg, sub, where } from './elementwise.js';
import { gather } from './indexing.js';
import { runKernel } from './kernel.js';
import { mean, sum } from './reduce.js';
import { reshape, reshapeNoGrad } from './shape.js';
import { logSoftmax } from './softmax.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Targets equal to this contribute no loss and no gradient (default -100, like PyTorch). */
  ignoreIndex?: number;
  /** Mixes the one-hot target with a uniform distribution (Szegedy et al., 2016; default 0). */
  labelSmoothing?: number;
  /** `mean` over non-ignored targets (default), `sum`, or `none` (per target). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy between `logits [..., V]` and int32 class `targets [...]`, like
 * `torch.nn.functional.cross_entropy` with class indices.
 *
 * @example
 * ```ts
 * const loss = crossEntropy(logits.reshape([-1, vocabSize]), targets.reshape([-1]));
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const V = logits.shape[logits.rank - 1];
  if (targets.dtype !== 'int32')
    throw new TensorError(
      'dtype_mismatch',
      `crossEntropy: targets must be int32, got ${targets.dtype}`,
    );
  if (!sameShape(logits.shape.slice(0, -1), targets.shape)) {
    throw new TensorError(
      'shape_mismatch',
      `crossEntropy: logits ${formatShape(logits.shape)} do not match targets ${formatShape(targets.shape)}`,
    );
  }
  const ignoreIndex = options.ignoreIndex ?? -100;
  const labelSmoothing = options.labelSmoothing ?? 0;
  const attributes = { ignoreIndex, labelSmoothing };
  const R = targets.size;
  const rows = reshapeNoGrad(logits, [R, V]);
  const ids = reshapeNoGrad(targets, [R]);
  const perRow = noGrad(() => tidy(() => crossEntropyRows(rows, ids, attributes)));
  record('crossEntropy', [logits], perRow, [rows, ids], attributes);
  rows.dispose();
  const reduction = options.reduction ?? 'mean';
  let out: Tensor;
  if (reduction === 'none') out = reshape(perRow, targets.shape);
  else if (reduction === 'sum') out = sum(perRow);
  else {
    // Mean over the targets that count (NaN when every target is ignored, like PyTorch).
    const valid = noGrad(() => tidy(() => sum(ne(ids, ignoreIndex).to(perRow.dtype))));
    const total = sum(perRow);
    out = div(total, valid);
    total.dispose();
    valid.dispose();
  }
  perRow.dispose();
  ids.dispose();
  return out;
}

/** Per-row losses [R] of logits [R, V] (contiguous) and targets [R]. */
export function crossEntropyRows(
  rows: Tensor,
  ids: Tensor,
  attributes: { ignoreIndex: number; labelSmoothing: number },
): Tensor {
  const R = rows.shape[0];
  if (rows.backend.supports('crossEntropy')) {
    return runKernel(
      'crossEntropy',
      [rows, ids],
      [{ shape: [R], dtype: rows.dtype }],
      attributes,
    )[0];
  }
  const valid = ne(ids, attributes.ignoreIndex);
  const safe = where(valid, ids, 0);
  const logp = logSoftmax(rows, 1);
  const picked = reshape(gather(logp, 1, reshape(safe, [R, 1])), [R]);
  const s = attributes.labelSmoothing;
  const loss = sub(mul(neg(picked), 1 - s), mul(mean(logp, 1), s));
  return where(valid, loss, 0);
}

/** Mean squared error between `input` and `target` (`reduction` as in crossEntropy). */
export function mseLoss(
  input: Tensor,
  target: Tensor,
  options: { reduction?: 'mean' | 'sum' | 'none' } = {},
): Tensor {
  const diff = sub(input, target);
  const squared = mul(diff, diff);
  diff.dispose();
  if (options.reduction === 'none') return squared;
  const out = options.reduction === 'sum' ? sum(squared) : mean(squared);
  squared.dispose();
  return out;
}
