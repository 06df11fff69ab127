// linearCrossEntropy: the cross-entropy of an output head, y = x W^T, without ever holding its
// logits. A 150k-token vocabulary makes the logits of a 4 x 256 batch 622 MB in float32, and
// their gradient as much again; here they exist one chunk of rows at a time. The forward pass
// makes each chunk's logits, its losses and, when a gradient is wanted, its logits' gradient
// (softmax - one-hot, for a unit upstream gradient per row), folds that into dx = dlogits W (and
// dW += dlogits^T x for a trained head) and frees the chunk; the backward pass only scales what
// was kept. This is Liger-Kernel's fused linear cross-entropy; Wijmans et al. (2024, "Cut Your
// Losses in Large-Vocabulary Language Models") go further and skip the chunks' materialisation.
// The loss is a sum or mean over rows, so the upstream gradient is one scalar for every row.
import { crossEntropyGradient } from '../autograd/fused-gradients.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { isHalfDType } from '../dtype.js';
import { keep, tidy } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { assign, cast } from './cast.js';
import { ones, zeros } from './creation.js';
import { add, div, ne } from './elementwise.js';
import { halfLinearInputGradient, linear } from './linear.js';
import { crossEntropyRows } from './loss.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { contiguous, narrow, transpose } from './shape.js';

/** Options of {@link linearCrossEntropy}. */
export interface LinearCrossEntropyOptions {
  /** Targets equal to this contribute no loss and no gradient (default -100, like PyTorch). */
  ignoreIndex?: number;
  /** Mixes the one-hot target with a uniform distribution (default 0). */
  labelSmoothing?: number;
  /** `mean` over non-ignored targets (default) or `sum`. */
  reduction?: 'mean' | 'sum';
  /**
   * Rows per chunk (default: as many as keep one chunk's logits near 64 MB, at least 1). Only
   * memory and speed depend on it, not the result beyond float rounding.
   */
  chunkSize?: number;
}

/**
 * `crossEntropy(linear(x, weight), targets)` for `x [N, C]`, `weight [V, C]` (float32, or a
 * frozen bfloat16 / float16 head) and int32 `targets [N]`, holding at most one chunk of the
 * `[N, V]` logits at a time. Gradients flow to x and, for a float32 head that requires one, to
 * the weight.
 *
 * @example
 * ```ts
 * const loss = linearCrossEntropy(hidden.reshape([-1, 1024]), lmHead.weight, targets); // scalar
 * ```
 */
export function linearCrossEntropy(
  x: Tensor,
  weight: Tensor,
  targets: Tensor,
  options: LinearCrossEntropyOptions = {},
): Tensor {
  if (x.rank !== 2 || weight.rank !== 2 || x.shape[1] !== weight.shape[1])
    throw new TensorError(
      'shape_mismatch',
      `linearCrossEntropy: x ${formatShape(x.shape)} and weight ${formatShape(weight.shape)} must be [N, C] and [V, C]`,
    );
  if (targets.dtype !== 'int32' || targets.rank !== 1 || targets.shape[0] !== x.shape[0])
    throw new TensorError(
      'shape_mismatch',
      `linearCrossEntropy: targets must be int32 [${x.shape[0]}], got ${targets.dtype} ${formatShape(targets.shape)}`,
    );
  const [N, C] = x.shape;
  const V = weight.shape[0];
  const attributes = {
    ignoreIndex: options.ignoreIndex ?? -100,
    labelSmoothing: options.labelSmoothing ?? 0,
  };
  const chunk = options.chunkSize ?? Math.max(1, Math.floor((64 * 1024 * 1024) / (4 * V)));
  if (!Number.isInteger(chunk) || chunk < 1)
    throw new TensorError(
      'invalid_argument',
      `linearCrossEntropy: chunkSize ${chunk} is not a positive integer`,
    );
  const wantX = isGradEnabled() && x.requiresGrad;
  const wantW = isGradEnabled() && weight.requiresGrad && !isHalfDType(weight.dtype);
  const backend = x.backend.name;
  const dx = wantX ? keep(noGrad(() => zeros([N, C], { backend }))) : null;
  const dW = wantW ? keep(noGrad(() => zeros([V, C], { backend }))) : null;
  let total = keep(noGrad(() => zeros([], { backend })));
  noGrad(() => {
    for (let start = 0; start < N; start += chunk) {
      const n = Math.min(chunk, N - start);
      tidy(() => {
        const xc = contiguous(narrow(x, 0, start, n));
        const ids = contiguous(narrow(targets, 0, start, n));
        const logits = linear(xc, weight); // (n, V): the only logits alive
        const losses = crossEntropyRows(logits, ids, attributes);
        const next = add(total, sum(losses));
        total.dispose();
        total = keep(next);
        if (!dx && !dW) return;
        const grad = ones([n], { backend });
        const dlogits = crossEntropyGradient({
          grad,
          saved: [logits, ids],
          attributes,
          inputs: [],
        }); // (n, V)
        if (dx) {
          const part = isHalfDType(weight.dtype)
            ? halfLinearInputGradient(dlogits, contiguous(weight), halfFormat(weight))
            : matmul(dlogits, weight);
          assign(narrow(dx, 0, start, n), part);
        }
        if (dW) {
          const step = matmul(transpose(dlogits), xc); // (V, C)
          const accumulated = add(dW, step);
          assign(dW, accumulated);
        }
      });
    }
  });
  const saved = [dx, dW].filter((t): t is Tensor => t !== null);
  const summed = record('linearCrossEntropy', [x, weight], total, saved, {
    hasX: dx !== null,
    hasWeight: dW !== null,
  });
  for (const t of saved) t.dispose(); // the node holds its own references
  if ((options.reduction ?? 'mean') === 'sum') return summed;
  const valid = noGrad(() =>
    tidy(() => cast(sum(cast(ne(targets, attributes.ignoreIndex), 'float32')), x.dtype)),
  );
  const out = div(summed, valid);
  summed.dispose();
  valid.dispose();
  return out;
}

/** The `quantizedMatmul` format of a 16-bit weight. */
function halfFormat(weight: Tensor): string {
  return weight.dtype === 'bfloat16' ? 'bf16' : 'fp16';
}
