// Scaled dot-product attention (Vaswani et al., 2017): softmax(q k^T * scale + mask) v.
// `composedAttention` is the reference, written with ops; it runs whenever the backend has no
// fused kernel or the call needs what only it provides (dropout, the weights). Otherwise
// `canUseFusedAttention` picks the backend's fused kernels: `attention` for the forward (with the
// logsumexp of each row when a gradient is needed) and `attentionBackward`, which recomputes the
// weights row by row (FlashAttention's backward), so no (T x S) tensor is kept.
// Grouped-query attention (Ainslie et al., 2023): keys and values may have fewer heads than the
// queries (Hkv dividing H); query head h reads key/value head floor(h / (H / Hkv)). The fused
// kernels take such keys and values as they are (part of their contract); the composed path
// repeats them first, as Hugging Face's `repeat_kv`.
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { headStrideOf } from '../backend/head-layout.js';
import { tidy } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fromValues } from './creation.js';
import { dropout } from './dropout.js';
import { mul, where } from './elementwise.js';
import { runKernel } from './kernel.js';
import { matmul } from './matmul.js';
import { broadcastView, contiguous, expand, reshape, transpose, unsqueeze } from './shape.js';
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
  /**
   * Also return the attention weights `[..., T, S]` (before dropout), for visualisation. They are
   * what the composed path computes, so it runs instead of a fused kernel. Default false.
   */
  returnWeights?: boolean;
}

/** What {@link scaledDotProductAttention} returns with `returnWeights: true`. */
export interface AttentionWithWeights {
  /** The attention output `[..., T, Dv]`. */
  output: Tensor;
  /** softmax(q k^T * scale + mask), `[..., T, S]`, before dropout. */
  weights: Tensor;
}

/**
 * The causal mask of T queries over S keys, a bool `[T, S]`: query t sees keys s <= t + S - T
 * (queries are the last T of S positions, as with a KV cache). The one place the rule is written.
 *
 * @example
 * ```ts
 * await causalMask(2, 3).array(); // [[true, true, false], [true, true, true]]
 * ```
 */
export function causalMask(
  queryLength: number,
  keyLength: number,
  options: { backend?: string } = {},
): Tensor {
  const [T, S] = [queryLength, keyLength];
  const keep = new Uint8Array(T * S);
  for (let t = 0; t < T; t++) keep.fill(1, t * S, t * S + Math.min(S, t + S - T + 1));
  return fromValues(keep, [T, S], { dtype: 'bool', backend: options.backend });
}

/**
 * softmax(q k^T * scale + masks) v for q `[..., T, D]`, k `[..., S, D]`, v `[..., S, Dv]`; with
 * `returnWeights`, `{ output, weights }`. For grouped-query attention, k and v may have fewer
 * heads (dimension -3) than q when their count divides q's: q `[B, H, T, D]`, k and v
 * `[B, Hkv, S, D]`, query head h reading key/value head floor(h / (H / Hkv)); pass them
 * unrepeated (the fused kernels read them in place).
 *
 * @example
 * ```ts
 * const y = scaledDotProductAttention(q, k, v, { causal: true }); // q, k, v [B, H, T, D]
 * const { output, weights } = scaledDotProductAttention(q, k, v, { returnWeights: true });
 * const grouped = scaledDotProductAttention(q, k, v); // q [1, 16, 1, 128], k and v [1, 8, 37, 128]
 * ```
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions & { returnWeights: true },
): AttentionWithWeights;
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options?: AttentionOptions,
): Tensor;
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor | AttentionWithWeights {
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank) {
    throw new TensorError(
      'shape_mismatch',
      `scaledDotProductAttention: q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)} must have equal rank >= 2`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[q.rank - 1]);
  if (canUseFusedAttention(q, k, v, options)) {
    return needsGradient(q, k, v)
      ? fusedAttentionForTraining(q, k, v, options.causal ?? false, scale)
      : fusedAttention(q, k, v, options, scale);
  }
  const result = composedAttention(q, k, v, options, scale);
  if (options.returnWeights) return result;
  result.weights.dispose();
  return result.output;
}

/** The reference: scores, masks, softmax, dropout and the weighted sum, as ops. */
function composedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions,
  scale: number,
): AttentionWithWeights {
  return tidy(() => {
    const repeats = headGroup(q, k);
    if (repeats > 1) [k, v] = [repeatHeads(k, repeats), repeatHeads(v, repeats)];
    const T = q.shape[q.rank - 2];
    const S = k.shape[k.rank - 2];
    let scores = mul(matmul(q, transpose(k, -2, -1)), scale); // (..., T, S)
    if (options.causal)
      scores = where(causalMask(T, S, { backend: q.backend.name }), scores, -Infinity);
    if (options.mask) scores = where(options.mask, scores, -Infinity);
    const weights = softmax(scores, -1);
    const p = options.dropout ?? 0;
    const dropped = p > 0 ? dropout(weights, p, { generator: options.generator }) : weights;
    return { output: matmul(dropped, v), weights };
  });
}

/**
 * Query heads per key/value head: H / Hkv when k has fewer heads (dimension -3) than q and their
 * count divides q's (grouped-query attention), else 1 (equal heads, or ones that broadcast).
 */
function headGroup(q: Tensor, k: Tensor): number {
  if (q.rank < 3) return 1;
  const [H, Hkv] = [q.shape[q.rank - 3], k.shape[k.rank - 3]];
  return Hkv > 0 && Hkv < H && H % Hkv === 0 ? H / Hkv : 1;
}

/**
 * `[..., Hkv, S, D] -> [..., Hkv * repeats, S, D]`, each head repeated `repeats` times in a row
 * (Hugging Face's `repeat_kv`): unsqueeze + expand + reshape, one copy.
 */
function repeatHeads(x: Tensor, repeats: number): Tensor {
  const shape = x.shape;
  const r = x.rank;
  const expanded = expand(unsqueeze(x, r - 2), [
    ...shape.slice(0, r - 2),
    repeats,
    ...shape.slice(r - 2),
  ]);
  return reshape(expanded, [
    ...shape.slice(0, r - 3),
    shape[r - 3] * repeats,
    ...shape.slice(r - 2),
  ]);
}

/**
 * Whether {@link scaledDotProductAttention} runs on the backend's fused kernels for these
 * inputs and options: rank-4 inputs q `[B, H, T, D]`, k `[B, Hkv, S, D]`, v `[B, Hkv, S, Dv]`
 * (Hkv = H or dividing it) on a backend with an `attention` kernel,
 * without dropout or `returnWeights` (only the composed path has the weights). When a gradient
 * is needed the backend must also have `attentionBackward`, which takes no bool mask and, when
 * causal, needs T <= S (every query sees at least one key).
 *
 * @example
 * ```ts
 * canUseFusedAttention(q, k, v, { causal: true }); // true on the cpu backend
 * ```
 */
export function canUseFusedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): boolean {
  const backend = q.backend;
  if (options.returnWeights || (options.dropout ?? 0) > 0) return false;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4 || !backend.supports('attention')) return false;
  const [B, H, T, D] = q.shape;
  const [Hkv, S] = [k.shape[1], k.shape[2]];
  const kvShapesFit =
    k.shape[0] === B && v.shape[0] === B && v.shape[1] === Hkv && v.shape[2] === S;
  if (!kvShapesFit || k.shape[3] !== D || H % Hkv !== 0) return false;
  if (q.size === 0 || S === 0) return false;
  if (!needsGradient(q, k, v)) return true;
  return backend.supports('attentionBackward') && !options.mask && (!options.causal || T <= S);
}

function needsGradient(q: Tensor, k: Tensor, v: Tensor): boolean {
  return isGradEnabled() && (q.requiresGrad || k.requiresGrad || v.requiresGrad);
}

/** Inference on the fused kernel (no graph): masks allowed, keys and values may be cache views. */
function fusedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions,
  scale: number,
): Tensor {
  return tidy(() => {
    const [T, S] = [q.shape[2], k.shape[2]];
    // Keys and values may stay views of a KV cache's buffer (dense, evenly spaced heads).
    const inputs = [
      contiguous(q),
      headStrideOf(k) === undefined ? contiguous(k) : k,
      headStrideOf(v) === undefined ? contiguous(v) : v,
    ];
    if (options.mask)
      inputs.push(contiguous(broadcastView(options.mask, [...q.shape.slice(0, 2), T, S])));
    const attributes = { causal: options.causal ?? false, scale, hasMask: !!options.mask };
    const outputs = [{ shape: [...q.shape.slice(0, 3), v.shape[3]], dtype: q.dtype }];
    return runKernel('attention', inputs, outputs, attributes)[0];
  });
}

/**
 * Training forward on the fused kernel: saves the contiguous inputs, the output and the row
 * logsumexps for `attentionBackward` (the `scaledDotProductAttention` rule in gradients.ts).
 */
function fusedAttentionForTraining(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  causal: boolean,
  scale: number,
): Tensor {
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
  const result = record('scaledDotProductAttention', [q, k, v], out, [...dense, out, logsumexp], {
    causal,
    scale,
  });
  // record keeps what it saves; drop this function's own references.
  logsumexp.dispose();
  for (const t of dense) t.dispose();
  return result;
}
