// Scaled dot-product attention (Vaswani et al., 2017). Without dropout or a mask it runs on the
// backend's fused kernels when there are: `attention` for the forward (with the logsumexp of each
// row when a gradient is needed) and `attentionBackward`, which recomputes the weights row by row
// (FlashAttention's backward), so no (T x S) tensor is kept. Otherwise it is composed from ops.
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { headStrideOf } from '../backend/head-layout.js';
import { record } from '../autograd/node.js';
import { defineGradient } from '../autograd/table.js';
import { tidy } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fromValues } from './creation.js';
import { mul, where } from './elementwise.js';
import { dropout } from './dropout.js';
import { runKernel } from './kernel.js';
import { matmul } from './matmul.js';
import { broadcastView, contiguous, transpose } from './shape.js';
import { softmax } from './softmax.js';

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /** Hide keys after each query (query t sees keys s <= t + S - T; default false). */
  causal?: boolean;
  /** Bool mask broadcastable to [..., T, S]: true keeps a score, false hides it. */
  mask?: Tensor;
  /** Dropout probability on the attention weights (default 0). */
  dropout?: number;
  /** Score scale (default 1 / sqrt(head dimension)). */
  scale?: number;
  /** Generator for the dropout mask. */
  generator?: Generator;
}

/**
 * softmax(q k^T * scale + masks) v for q `[..., T, D]`, k `[..., S, D]`, v `[..., S, Dv]`.
 *
 * @example
 * ```ts
 * const y = scaledDotProductAttention(q, k, v, { causal: true }); // q, k, v [B, H, T, D]
 * ```
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor {
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank) {
    throw new TensorError(
      'shape_mismatch',
      `scaledDotProductAttention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} must have equal rank >= 2`,
    );
  }
  const D = q.shape[q.rank - 1];
  const T = q.shape[q.rank - 2];
  const S = k.shape[k.rank - 2];
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const needsGrad = isGradEnabled() && [q, k, v].some((t) => t.requiresGrad);
  const p = options.dropout ?? 0;
  if (
    !needsGrad &&
    p === 0 &&
    q.rank === 4 &&
    q.backend.supports('attention') &&
    q.size > 0 &&
    S > 0
  ) {
    return tidy(() => {
      // Keys and values may stay views of a KV cache's buffer (dense, evenly spaced heads).
      const inputs = [
        contiguous(q),
        headStrideOf(k) === undefined ? contiguous(k) : k,
        headStrideOf(v) === undefined ? contiguous(v) : v,
      ];
      const attrs = { causal: options.causal ?? false, scale, hasMask: !!options.mask };
      if (options.mask)
        inputs.push(contiguous(broadcastView(options.mask, [...q.shape.slice(0, 2), T, S])));
      return runKernel(
        'attention',
        inputs,
        [{ shape: [...q.shape.slice(0, 3), v.shape[3]], dtype: q.dtype }],
        attrs,
      )[0];
    });
  }
  if (
    needsGrad &&
    p === 0 &&
    !options.mask &&
    q.rank === 4 &&
    q.backend.supports('attention') &&
    q.backend.supports('attentionBackward') &&
    q.size > 0 &&
    S > 0 &&
    (!options.causal || T <= S)
  ) {
    return fusedAttention(q, k, v, options.causal ?? false, scale);
  }
  return tidy(() => {
    let scores = mul(matmul(q, transpose(k, -2, -1)), scale);
    if (options.causal) {
      const keep = new Uint8Array(T * S);
      for (let t = 0; t < T; t++)
        for (let s = 0; s <= Math.min(S - 1, t + S - T); s++) keep[t * S + s] = 1;
      scores = where(
        fromValues(keep, [T, S], { dtype: 'bool', backend: q.backend.name }),
        scores,
        -Infinity,
      );
    }
    if (options.mask) scores = where(options.mask, scores, -Infinity);
    let weights = softmax(scores, -1);
    if (p > 0) weights = dropout(weights, p, { generator: options.generator });
    return matmul(weights, v);
  });
}

const ATTENTION_OP = 'scaledDotProductAttention';

/** Forward on the fused kernel, saving the contiguous inputs, output and row logsumexps. */
function fusedAttention(q: Tensor, k: Tensor, v: Tensor, causal: boolean, scale: number): Tensor {
  const dense = noGrad(() => [q, k, v].map((t) => contiguous(t)));
  const [B, H, T] = q.shape;
  const [out, logsumexp] = noGrad(() =>
    runKernel(
      'attention',
      dense,
      [
        { shape: [B, H, T, v.shape[3]], dtype: q.dtype },
        { shape: [B, H, T], dtype: q.dtype },
      ],
      { causal, scale, hasMask: false },
    ),
  );
  const result = record(ATTENTION_OP, [q, k, v], out, [...dense, out, logsumexp], {
    causal,
    scale,
  });
  // record keeps what it saves; drop this function's own references.
  logsumexp.dispose();
  for (const t of dense) t.dispose();
  return result;
}

defineGradient(ATTENTION_OP, ({ grad, saved: [q, k, v, out, logsumexp], inputs, attributes }) => {
  const grads = runKernel(
    'attentionBackward',
    [q, k, v, out, contiguous(grad), logsumexp],
    [q, k, v].map((t) => ({ shape: t.shape, dtype: t.dtype })),
    { causal: Boolean(attributes.causal), scale: Number(attributes.scale) },
  );
  return grads.map((g, i) => (inputs[i].requiresGrad ? g : null));
});
