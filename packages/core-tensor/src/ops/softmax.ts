// softmax, logSoftmax and logsumexp. Each is one autograd node: the forward runs the backend's
// fused `softmax` kernel when it has one (last axis) and composes primitives otherwise.
import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { isFloatDType } from '../dtype.js';
import { TensorError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { exp, log, sub } from './elementwise.js';
import { runKernel } from './kernel.js';
import { max, sum } from './reduce.js';
import { contiguous, reshape } from './shape.js';

function checkFloat(what: string, x: Tensor): void {
  if (!isFloatDType(x.dtype))
    throw new TensorError('dtype_mismatch', `${what}: expected a float tensor, got ${x.dtype}`);
}

function softmaxForward(x: Tensor, axis: number, logarithm: boolean): Tensor {
  return noGrad(() => {
    if (axis === x.rank - 1 && x.size > 0 && x.backend.supports('softmax')) {
      const dense = contiguous(x);
      const [out] = runKernel('softmax', [dense], [{ shape: x.shape, dtype: x.dtype }], {
        log: logarithm,
      });
      dense.dispose();
      return out;
    }
    // Subtracting the max keeps exp from overflowing; the result is mathematically unchanged.
    const m = x.shape[axis] === 0 ? x.detach() : max(x, axis, { keepDim: true });
    const shifted = sub(x, m);
    const e = exp(shifted);
    const total = sum(e, axis, { keepDim: true });
    let out: Tensor;
    if (logarithm) {
      const lse = log(total);
      out = sub(shifted, lse);
      lse.dispose();
    } else {
      out = e.div(total);
    }
    for (const t of [m, shifted, e, total]) t.dispose();
    return out;
  });
}

/**
 * Softmax along `axis` (default last): exp(x) / sum(exp(x)), computed max-subtracted.
 *
 * @example
 * ```ts
 * softmax(tensor([1, 2, 3])); // [0.090, 0.245, 0.665]
 * ```
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  checkFloat('softmax', x);
  const a = normalizeAxis(axis, x.rank, 'softmax');
  const out = softmaxForward(x, a, false);
  return record('softmax', [x], out, [out], { axis: a });
}

/** log(softmax(x)) along `axis` (default last), computed stably. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkFloat('logSoftmax', x);
  const a = normalizeAxis(axis, x.rank, 'logSoftmax');
  const out = softmaxForward(x, a, true);
  return record('logSoftmax', [x], out, [out], { axis: a });
}

/** log(sum(exp(x))) along `axis`, computed stably. */
export function logsumexp(x: Tensor, axis = -1, options: { keepDim?: boolean } = {}): Tensor {
  checkFloat('logsumexp', x);
  const a = normalizeAxis(axis, x.rank, 'logsumexp');
  const out = noGrad(() => {
    const m = max(x, a, { keepDim: true });
    const shifted = sub(x, m);
    const e = exp(shifted);
    const total = sum(e, a, { keepDim: true });
    const l = log(total);
    const kept = l.add(m);
    for (const t of [m, shifted, e, total, l]) t.dispose();
    if (options.keepDim) return kept;
    const squeezed = reshape(
      kept,
      x.shape.filter((_, i) => i !== a),
    );
    kept.dispose();
    return squeezed;
  });
  return record('logsumexp', [x], out, [x, out], { axis: a, keepDim: options.keepDim ?? false });
}
