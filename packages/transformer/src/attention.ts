// The attention core shared by every architecture: split into heads, (repeat key/value heads for
// grouped-query attention), softmax(q k^T / sqrt(d) + mask) v, merge heads. Projections live in
// each architecture's module, so parameter names can follow that architecture's checkpoints.
import {
  dropout as applyDropout,
  type Generator,
  matmul,
  mul,
  reshape,
  scaledDotProductAttention,
  softmax,
  type Tensor,
  transpose,
  unsqueeze,
  where,
  expand,
  fromValues,
} from '@llmkit/core-tensor';

/** `[B, T, H * D] -> [B, H, T, D]` (a strided view; no copy). */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [B, T, C] = x.shape;
  return transpose(reshape(x, [B, T, heads, C / heads]), 1, 2);
}

/** `[B, H, T, D] -> [B, T, H * D]` (copies into the contiguous layout). */
export function mergeHeads(x: Tensor): Tensor {
  const [B, H, T, D] = x.shape;
  return reshape(transpose(x, 1, 2), [B, T, H * D]);
}

/**
 * Grouped-query attention (Ainslie et al., 2023): each of the `Hkv` key/value heads serves
 * `repeats` consecutive query heads, as Hugging Face's `repeat_kv`. `[B, Hkv, S, D] -> [B, Hkv *
 * repeats, S, D]`. Composed from unsqueeze + expand + reshape (one copy); no fused kernel needed.
 */
export function repeatKeyValue(x: Tensor, repeats: number): Tensor {
  if (repeats === 1) return x;
  const [B, H, S, D] = x.shape;
  return reshape(expand(unsqueeze(x, 2), [B, H, repeats, S, D]), [B, H * repeats, S, D]);
}

/** Options of {@link attend}. */
export interface AttendOptions {
  /** Bool mask broadcastable to `[B, H, T, S]`, true = attend (see `masks.ts`). */
  mask?: Tensor;
  /** Hide keys after each query, aligned to the end (query t sees keys s <= t + S - T). */
  causal?: boolean;
  /** Dropout probability on the attention weights (training only). */
  dropout?: number;
  /** Generator for the dropout mask. */
  generator?: Generator;
  /** Also return the attention weights `[B, H, T, S]` (takes the composed path). */
  returnWeights?: boolean;
}

/**
 * softmax(q k^T / sqrt(D) + mask) v for q `[B, H, T, D]`, k and v `[B, H, S, D]`. Without
 * `returnWeights`, core-tensor's `scaledDotProductAttention` runs (the backend's fused kernel when
 * no gradient is needed); with it, the manual path below also hands back the weights.
 */
export function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttendOptions = {},
): { output: Tensor; weights?: Tensor } {
  if (!options.returnWeights) {
    return {
      output: scaledDotProductAttention(q, k, v, {
        causal: options.causal,
        mask: options.mask,
        dropout: options.dropout,
        generator: options.generator,
      }),
    };
  }
  // manual implementation of attention, which keeps the weights for visualisation
  const D = q.shape[3];
  const T = q.shape[2];
  const S = k.shape[2];
  let scores = mul(matmul(q, transpose(k, -2, -1)), 1 / Math.sqrt(D)); // (B, H, T, S)
  if (options.causal) scores = where(causalKeep(T, S, q), scores, -Infinity);
  if (options.mask) scores = where(options.mask, scores, -Infinity);
  const weights = softmax(scores, -1);
  const dropped = options.dropout
    ? applyDropout(weights, options.dropout, { generator: options.generator })
    : weights;
  return { output: matmul(dropped, v), weights };
}

function causalKeep(T: number, S: number, like: Tensor): Tensor {
  const keep = new Uint8Array(T * S);
  for (let t = 0; t < T; t++)
    for (let s = 0; s <= Math.min(S - 1, t + S - T); s++) keep[t * S + s] = 1;
  return fromBool(keep, [T, S], like);
}

/** A bool tensor on `like`'s backend. */
export function fromBool(values: Uint8Array, shape: number[], like: Tensor): Tensor {
  return fromValues(values, shape, { dtype: 'bool', backend: like.backend.name });
}
