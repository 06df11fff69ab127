// The longer rules of the gradient table (gradients.ts): ops whose backward runs on one of the
// backend's fused kernels when it has it (`geluBackward`, `embeddingBackward`,
// `layerNormBackward`, `crossEntropyBackward`, `attentionBackward`) and is composed from ops
// otherwise, as the reference path; rmsNorm's backward is composed from ops on every backend.
import { zeros } from '../ops/creation.js';
import * as o from '../ops/elementwise.js';
import { oneHot, scatterAdd } from '../ops/indexing.js';
import { runKernel } from '../ops/kernel.js';
import { mean, sum } from '../ops/reduce.js';
import { broadcastView, contiguous, denseCopy, reshape } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import type { Tensor } from '../tensor.js';
import type { GradientContext as C } from './gradients.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * d/dx x*Phi(x) = Phi(x) + x*phi(x) (exact), or the derivative of the tanh approximation; one
 * pass of the backend's `geluBackward` kernel instead of ~10 element-wise ops when it has one.
 */
export function geluGradient(x: Tensor, grad: Tensor, approximate: 'none' | 'tanh'): Tensor {
  if (x.backend.supports('geluBackward')) {
    const [dx] = runKernel(
      'geluBackward',
      [contiguous(x), contiguous(grad)],
      [{ shape: x.shape, dtype: x.dtype }],
      { approximate },
    );
    return dx;
  }
  if (approximate === 'none') {
    const Phi = o.mul(o.add(o.erf(o.mul(x, Math.SQRT1_2)), 1), 0.5);
    const phi = o.mul(o.exp(o.mul(o.mul(x, x), -0.5)), INV_SQRT_2PI);
    return o.mul(grad, o.add(Phi, o.mul(x, phi)));
  }
  const t = o.tanh(o.mul(o.add(x, o.mul(o.mul(o.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI));
  const dInner = o.mul(o.add(o.mul(o.mul(x, x), 3 * 0.044715), 1), SQRT_2_OVER_PI);
  const d = o.add(
    o.mul(o.add(t, 1), 0.5),
    o.mul(o.mul(o.mul(x, 0.5), o.sub(1, o.mul(t, t))), dInner),
  );
  return o.mul(grad, d);
}

/** Rows of `weight [V, C]` looked up by `ids`: the gradient rows added up per id. */
export function embeddingGradient(grad: Tensor, ids: Tensor, V: number): Tensor {
  const C = grad.shape[grad.rank - 1];
  const g = reshape(grad, [ids.size, C]);
  if (g.backend.supports('embeddingBackward')) {
    const dense = g.isContiguous ? g : denseCopy(g);
    return runKernel('embeddingBackward', [ids, dense], [{ shape: [V, C], dtype: g.dtype }])[0];
  }
  const index = broadcastView(reshape(ids, [ids.size, 1]), [ids.size, C]);
  return scatterAdd(zeros([V, C], { dtype: g.dtype, backend: g.backend.name }), 0, index, g);
}

/** Saved [x [R, C], mean [R], rstd [R], weight?]; gradients of x, weight, bias. */
export function layerNormGradient(c: C): (Tensor | null)[] {
  const [x, m, rstd, weight] = c.saved;
  const { hasWeight, hasBias } = c.attributes as { hasWeight: boolean; hasBias: boolean };
  const [R, C] = x.shape;
  const dy = reshape(c.grad, [R, C]);
  let grads: Tensor[];
  if (x.backend.supports('layerNormBackward') && R > 0) {
    const shapes = [
      { shape: [R, C], dtype: x.dtype },
      ...(hasWeight ? [{ shape: [C], dtype: x.dtype }] : []),
      ...(hasBias ? [{ shape: [C], dtype: x.dtype }] : []),
    ];
    grads = runKernel(
      'layerNormBackward',
      [contiguous(dy), x, m, rstd, ...(hasWeight ? [weight] : [])],
      shapes,
      { hasWeight, hasBias },
    );
  } else {
    // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * weight.
    const xhat = o.mul(o.sub(x, reshape(m, [R, 1])), reshape(rstd, [R, 1]));
    const dxhat = hasWeight ? o.mul(dy, weight) : dy;
    const inner = o.sub(
      o.sub(dxhat, mean(dxhat, 1, { keepDim: true })),
      o.mul(xhat, mean(o.mul(dxhat, xhat), 1, { keepDim: true })),
    );
    grads = [o.mul(inner, reshape(rstd, [R, 1]))];
    if (hasWeight) grads.push(sum(o.mul(dy, xhat), 0));
    if (hasBias) grads.push(sum(dy, 0));
  }
  grads[0] = reshape(grads[0], c.inputs[0].shape);
  return grads.map((g, i) => (c.inputs[i].requiresGrad ? g : null));
}

/**
 * Saved [x [R, C], rstd [R], weight?] of the fused rmsNorm, y = x * rstd * weight: with xhat =
 * x * rstd and dxhat = dy * weight, dx = rstd * (dxhat - xhat * mean(dxhat * xhat)) and
 * dweight = sum over rows of dy * xhat. Composed from ops (cheap next to the matmuls around it).
 */
export function rmsNormGradient(c: C): (Tensor | null)[] {
  const [x, rstd, weight] = c.saved;
  const [R, C] = x.shape;
  const dy = reshape(c.grad, [R, C]);
  const xhat = o.mul(x, reshape(rstd, [R, 1]));
  const dxhat = c.attributes.hasWeight ? o.mul(dy, weight) : dy;
  const projection = mean(o.mul(dxhat, xhat), 1, { keepDim: true });
  const grads = [
    reshape(o.mul(o.sub(dxhat, o.mul(xhat, projection)), reshape(rstd, [R, 1])), c.inputs[0].shape),
  ];
  if (c.attributes.hasWeight) grads.push(sum(o.mul(dy, xhat), 0));
  return grads.map((g, i) => (c.inputs[i].requiresGrad ? g : null));
}

/**
 * Saved [rows [R, V], ids [R]]: d loss_r / d logits_r = softmax - (1 - s) onehot - s / V, zero
 * for ignored rows (s: label smoothing).
 */
export function crossEntropyGradient(c: C): Tensor {
  const [rows, ids] = c.saved;
  const { ignoreIndex, labelSmoothing: s } = c.attributes as {
    ignoreIndex: number;
    labelSmoothing: number;
  };
  const [R, V] = rows.shape;
  if (rows.backend.supports('crossEntropyBackward')) {
    return runKernel(
      'crossEntropyBackward',
      [rows, ids, contiguous(c.grad)],
      [{ shape: [R, V], dtype: rows.dtype }],
      { ignoreIndex, labelSmoothing: s },
    )[0];
  }
  const valid = o.ne(ids, ignoreIndex);
  const target = oneHot(o.where(valid, ids, 0), V).to(rows.dtype);
  const d = o.sub(o.sub(softmax(rows, 1), o.mul(target, 1 - s)), s / V);
  return o.where(reshape(valid, [R, 1]), o.mul(d, reshape(c.grad, [R, 1])), 0);
}

/**
 * Saved [q, k, v, out, logsumexp] (contiguous) of the fused forward: the backend's
 * `attentionBackward` recomputes the weights row by row (FlashAttention's backward).
 */
export function attentionGradient(c: C): (Tensor | null)[] {
  const [q, k, v, out, logsumexp] = c.saved;
  const grads = runKernel(
    'attentionBackward',
    [q, k, v, out, contiguous(c.grad), logsumexp],
    [q, k, v].map((t) => ({ shape: t.shape, dtype: t.dtype })),
    { causal: Boolean(c.attributes.causal), scale: Number(c.attributes.scale) },
  );
  return grads.map((g, i) => (c.inputs[i].requiresGrad ? g : null));
}
