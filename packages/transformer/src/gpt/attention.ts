// Causal self-attention of a GPT block. One fused projection `c_attn` makes queries, keys and values
// (GPT-2's layout: [q | k | v] along the output features; with grouped-query attention the key and
// value parts have nKvHead heads each), then `c_proj` mixes the heads back into the residual.
import { Dropout, Linear, Module, narrow, RMSNorm, type Tensor } from '@llmkit/core-tensor';
import { attend, mergeHeads, splitHeads } from '../attention.js';
import type { KVCache } from '../kv-cache.js';
import { applyRope, type RopeTables } from '../rope.js';
import type { ResolvedGPTConfig } from './config.js';

/** What a block's layers need to know about the current forward pass. */
export interface LayerContext {
  /** Bool attention mask `[B, 1, T, S]` (padding and causality), or none when causal alone suffices. */
  mask?: Tensor;
  /** Apply the causal mask inside attention (set when `mask` is absent). */
  causal: boolean;
  /** Rotary angles at this pass's positions (RoPE models). */
  rope?: RopeTables;
  /** The KV cache to read and extend. */
  cache?: KVCache;
  /** Keep attention weights. */
  returnAttention: boolean;
}

/** Multi-head (or grouped-query) causal self-attention with GPT-2's parameter names. */
export class CausalSelfAttention extends Module {
  /** `[(nHead + 2 * nKvHead) * headSize, nEmbd]`: queries, keys and values in one matrix. */
  readonly c_attn: Linear;
  /** `[nEmbd, nHead * headSize]`: output projection. */
  readonly c_proj: Linear;
  /** RMSNorm `[headSize]` over each head's queries and keys (Qwen3's `q_norm`, `k_norm`), or null. */
  readonly q_norm: RMSNorm | null = null;
  /** See {@link CausalSelfAttention.q_norm}. */
  readonly k_norm: RMSNorm | null = null;
  private readonly attnDropout: number;
  private readonly residDropout: Dropout;
  private readonly headSize: number;

  constructor(
    private readonly config: ResolvedGPTConfig,
    private readonly layerIndex: number,
  ) {
    super();
    const { nEmbd, nHead, nKvHead, bias, qkvBias, dropout, headSize } = config;
    this.headSize = headSize;
    this.c_attn = this.addModule(
      'c_attn',
      new Linear(nEmbd, (nHead + 2 * nKvHead) * headSize, { bias: qkvBias }),
    );
    this.c_proj = this.addModule('c_proj', new Linear(nHead * headSize, nEmbd, { bias }));
    if (config.qkNorm) {
      this.q_norm = this.addModule(
        'q_norm',
        new RMSNorm(headSize, { epsilon: config.normEpsilon }),
      );
      this.k_norm = this.addModule(
        'k_norm',
        new RMSNorm(headSize, { epsilon: config.normEpsilon }),
      );
    }
    this.attnDropout = dropout;
    this.residDropout = this.addModule('resid_dropout', new Dropout(dropout));
  }

  /** `x [B, T, nEmbd] -> [B, T, nEmbd]`, plus the weights `[B, nHead, T, S]` when asked. */
  forward(x: Tensor, context: LayerContext): { output: Tensor; weights?: Tensor } {
    const { nHead, nKvHead } = this.config;
    const qSize = nHead * this.headSize;
    const kvSize = nKvHead * this.headSize;
    const qkv = this.c_attn.forward(x); // (B, T, qSize + 2 kvSize)
    let q = splitHeads(narrow(qkv, 2, 0, qSize), nHead); // (B, nh, T, hs)
    let k = splitHeads(narrow(qkv, 2, qSize, kvSize), nKvHead); // (B, nkv, T, hs)
    let v = splitHeads(narrow(qkv, 2, qSize + kvSize, kvSize), nKvHead);
    if (this.q_norm && this.k_norm) {
      q = this.q_norm.forward(q);
      k = this.k_norm.forward(k);
    }
    if (context.rope) {
      q = applyRope(q, context.rope);
      k = applyRope(k, context.rope);
    }
    if (context.cache) ({ key: k, value: v } = context.cache.append(this.layerIndex, k, v)); // (B, nkv, S, hs)
    // Grouped-query attention takes k and v with their nKvHead heads: the backend's fused kernel
    // reads each once per group of query heads (no repeated copy of the cache per token).
    const { output, weights } = attend(q, k, v, {
      mask: context.mask,
      causal: context.causal,
      dropout: this.training ? this.attnDropout : 0,
      returnWeights: context.returnAttention,
    });
    const y = this.residDropout.forward(this.c_proj.forward(mergeHeads(output)));
    return { output: y, weights };
  }
}
