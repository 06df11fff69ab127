// Layers of the encoder-decoder, pre-LayerNorm (as mBART and most modern seq2seq models; the
// paper's post-LN trains poorly without warm-up), with BART's parameter names: `self_attn`,
// `encoder_attn` (cross-attention), `{q,k,v,out}_proj`, `fc1`, `fc2` and a norm before each part.
import { add, Dropout, LayerNorm, Linear, Module, type Tensor } from '@llmkit/core-tensor';
import { attend, mergeHeads, splitHeads } from '../attention.js';
import { activate } from '../gpt/mlp.js';
import type { KVCache } from '../kv-cache.js';
import type { ResolvedEncoderDecoderConfig } from './config.js';

/** Where attention reads its keys and values, and how it may use the cache. */
export interface AttentionInputs {
  /** Bool mask broadcastable to `[B, H, T, S]` (true = attend). */
  mask?: Tensor;
  /** Causal masking (decoder self-attention without a padding mask). */
  causal?: boolean;
  /** Cache to extend (self-attention) or fill once and reuse (cross-attention). */
  cache?: KVCache;
  /** Keep the attention weights. */
  returnAttention: boolean;
}

/** Multi-head attention with separate q/k/v projections; self- or cross-attention. */
export class MultiHeadAttention extends Module {
  /** Query projection. */
  readonly q_proj: Linear;
  /** Key projection. */
  readonly k_proj: Linear;
  /** Value projection. */
  readonly v_proj: Linear;
  /** Output projection. */
  readonly out_proj: Linear;

  constructor(
    private readonly config: ResolvedEncoderDecoderConfig,
    private readonly layerIndex: number,
    private readonly kind: 'self' | 'cross',
  ) {
    super();
    const C = config.nEmbd;
    this.q_proj = this.addModule('q_proj', new Linear(C, C));
    this.k_proj = this.addModule('k_proj', new Linear(C, C));
    this.v_proj = this.addModule('v_proj', new Linear(C, C));
    this.out_proj = this.addModule('out_proj', new Linear(C, C));
  }

  /** `x [B, T, C]` attends to itself, or (cross) to `source [B, S, C]`. */
  forward(
    x: Tensor,
    source: Tensor | null,
    inputs: AttentionInputs,
  ): { output: Tensor; weights?: Tensor } {
    const H = this.config.nHead;
    const q = splitHeads(this.q_proj.forward(x), H); // (B, nh, T, hs)
    let k: Tensor;
    let v: Tensor;
    const cached = this.kind === 'cross' ? inputs.cache?.cross(this.layerIndex) : undefined;
    if (cached) {
      ({ key: k, value: v } = cached); // the encoder output's keys and values, computed once
    } else {
      const from = source ?? x;
      k = splitHeads(this.k_proj.forward(from), H);
      v = splitHeads(this.v_proj.forward(from), H);
      if (inputs.cache && this.kind === 'cross')
        inputs.cache.setCross(this.layerIndex, { key: k, value: v });
      if (inputs.cache && this.kind === 'self')
        ({ key: k, value: v } = inputs.cache.append(this.layerIndex, k, v));
    }
    const { output, weights } = attend(q, k, v, {
      mask: inputs.mask,
      causal: inputs.causal,
      dropout: this.training ? this.config.dropout : 0,
      returnWeights: inputs.returnAttention,
    });
    return { output: this.out_proj.forward(mergeHeads(output)), weights };
  }
}

function feedForward(
  owner: Module,
  config: ResolvedEncoderDecoderConfig,
): { fc1: Linear; fc2: Linear } {
  return {
    fc1: owner.addModule('fc1', new Linear(config.nEmbd, config.intermediateSize)),
    fc2: owner.addModule('fc2', new Linear(config.intermediateSize, config.nEmbd)),
  };
}

/** Encoder layer: x + selfAttn(norm(x)), then x + mlp(norm(x)). */
export class TransformerEncoderLayer extends Module {
  /** Bidirectional self-attention. */
  readonly self_attn: MultiHeadAttention;
  /** Norm before self-attention. */
  readonly self_attn_layer_norm: LayerNorm;
  /** MLP first matrix. */
  readonly fc1: Linear;
  /** MLP second matrix. */
  readonly fc2: Linear;
  /** Norm before the MLP. */
  readonly final_layer_norm: LayerNorm;
  private readonly dropout: Dropout;

  constructor(
    private readonly config: ResolvedEncoderDecoderConfig,
    layerIndex: number,
  ) {
    super();
    const epsilon = config.normEpsilon;
    this.self_attn = this.addModule(
      'self_attn',
      new MultiHeadAttention(config, layerIndex, 'self'),
    );
    this.self_attn_layer_norm = this.addModule(
      'self_attn_layer_norm',
      new LayerNorm(config.nEmbd, { epsilon }),
    );
    ({ fc1: this.fc1, fc2: this.fc2 } = feedForward(this, config));
    this.final_layer_norm = this.addModule(
      'final_layer_norm',
      new LayerNorm(config.nEmbd, { epsilon }),
    );
    this.dropout = this.addModule('dropout', new Dropout(config.dropout));
  }

  /** `[B, S, C] -> [B, S, C]`. */
  forward(
    x: Tensor,
    mask: Tensor | undefined,
    returnAttention: boolean,
  ): { output: Tensor; weights?: Tensor } {
    const { output: a, weights } = this.self_attn.forward(
      this.self_attn_layer_norm.forward(x),
      null,
      { mask, returnAttention },
    );
    const h = add(x, this.dropout.forward(a));
    const m = this.fc2.forward(
      activate(this.fc1.forward(this.final_layer_norm.forward(h)), this.config.activation),
    );
    return { output: add(h, this.dropout.forward(m)), weights };
  }
}

/** Decoder layer: masked self-attention, cross-attention to the encoder output, MLP; each pre-norm. */
export class TransformerDecoderLayer extends Module {
  /** Causal self-attention. */
  readonly self_attn: MultiHeadAttention;
  /** Norm before self-attention. */
  readonly self_attn_layer_norm: LayerNorm;
  /** Cross-attention over the encoder output. */
  readonly encoder_attn: MultiHeadAttention;
  /** Norm before cross-attention. */
  readonly encoder_attn_layer_norm: LayerNorm;
  /** MLP first matrix. */
  readonly fc1: Linear;
  /** MLP second matrix. */
  readonly fc2: Linear;
  /** Norm before the MLP. */
  readonly final_layer_norm: LayerNorm;
  private readonly dropout: Dropout;

  constructor(
    private readonly config: ResolvedEncoderDecoderConfig,
    layerIndex: number,
  ) {
    super();
    const epsilon = config.normEpsilon;
    this.self_attn = this.addModule(
      'self_attn',
      new MultiHeadAttention(config, layerIndex, 'self'),
    );
    this.self_attn_layer_norm = this.addModule(
      'self_attn_layer_norm',
      new LayerNorm(config.nEmbd, { epsilon }),
    );
    this.encoder_attn = this.addModule(
      'encoder_attn',
      new MultiHeadAttention(config, layerIndex, 'cross'),
    );
    this.encoder_attn_layer_norm = this.addModule(
      'encoder_attn_layer_norm',
      new LayerNorm(config.nEmbd, { epsilon }),
    );
    ({ fc1: this.fc1, fc2: this.fc2 } = feedForward(this, config));
    this.final_layer_norm = this.addModule(
      'final_layer_norm',
      new LayerNorm(config.nEmbd, { epsilon }),
    );
    this.dropout = this.addModule('dropout', new Dropout(config.dropout));
  }

  /** `x [B, T, C]` with the encoder output `memory [B, S, C]` -> `[B, T, C]`. */
  forward(
    x: Tensor,
    memory: Tensor | null,
    self: AttentionInputs,
    cross: AttentionInputs,
  ): { output: Tensor; selfWeights?: Tensor; crossWeights?: Tensor } {
    const { output: a, weights: selfWeights } = this.self_attn.forward(
      this.self_attn_layer_norm.forward(x),
      null,
      self,
    );
    let h = add(x, this.dropout.forward(a));
    const { output: c, weights: crossWeights } = this.encoder_attn.forward(
      this.encoder_attn_layer_norm.forward(h),
      memory,
      cross,
    );
    h = add(h, this.dropout.forward(c));
    const m = this.fc2.forward(
      activate(this.fc1.forward(this.final_layer_norm.forward(h)), this.config.activation),
    );
    return { output: add(h, this.dropout.forward(m)), selfWeights, crossWeights };
  }
}
