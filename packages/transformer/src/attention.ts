// The attention core shared by every architecture: split into heads, softmax(q k^T / sqrt(d) +
// mask) v (with grouped-query attention's fewer key/value heads), merge heads. Projections live in
// each architecture's module, so parameter names can follow that architecture's checkpoints.
import {
  expand,
  type Generator,
  reshape,
  scaledDotProductAttention,
  type Tensor,
  transpose,
  unsqueeze,
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
 * repeats, S, D]`. Composed from unsqueeze + expand + reshape (one copy). {@link attend} does not
 * need it (it takes the Hkv heads as they are); it is for code that wants the repeated tensors.
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
 * softmax(q k^T / sqrt(D) + mask) v for q `[B, H, T, D]`, k and v `[B, Hkv, S, D]` (Hkv = H, or
 * dividing it for grouped-query attention: query head h reads key/value head floor(h / (H /
 * Hkv))): core-tensor's `scaledDotProductAttention` (the backend's fused kernel where it applies),
 * which also hands back the weights when asked (computing them on its composed path).
 *
 * @example
 * ```ts
 * const { output, weights } = attend(q, k, v, { causal: true, returnWeights: true });
 * ```
 */
export function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttendOptions = {},
): { output: Tensor; weights?: Tensor } {
  const { mask, causal, dropout, generator } = options;
  if (options.returnWeights)
    return scaledDotProductAttention(q, k, v, {
      mask,
      causal,
      dropout,
      generator,
      returnWeights: true,
    });
  return { output: scaledDotProductAttention(q, k, v, { mask, causal, dropout, generator }) };
}
