// GPT: a decoder-only transformer (Radford et al., 2019) in nanoGPT's shape, with GPT-2's parameter
// names so that loading a Hugging Face checkpoint is a name-for-name copy, and LLaMA-style options
// (RoPE, RMSNorm, SwiGLU, grouped-query attention, no biases). Not handled here: sliding-window
// attention, ALiBi, mixture-of-experts, quantized weights (see @llmkit/quantize).
import {
  add,
  crossEntropy,
  Dropout,
  Embedding,
  fromValues,
  init,
  keep,
  gradientCheckpoint,
  Linear,
  linear,
  linearCrossEntropy,
  Module,
  ModuleList,
  narrow,
  noGrad,
  reshape,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import type { GenerationOutput, TokenEvent } from '@llmkit/sampling';
import { TransformerError } from '../errors.js';
import { type GenerateOptions, generateTokens, streamGeneratedTokens } from '../generate.js';
import type { KVCache } from '../kv-cache.js';
import {
  attentionMask,
  hasPadding,
  noPadding,
  type PaddingMask,
  positionIds,
  readTokenIds,
  type TokenIds,
  tokenTensor,
  toRows,
} from '../masks.js';
import { type RopeTables, ropeAt, ropeTables } from '../rope.js';
import type { LayerContext } from './attention.js';
import { Block, makeNorm } from './block.js';
import { type GPTConfig, type ResolvedGPTConfig, resolveGPTConfig } from './config.js';

/** Options of {@link GPT.forward}. */
export interface ForwardOptions {
  /** 1 for real tokens, 0 for padding, per row (default: no padding). */
  attentionMask?: PaddingMask;
  /** Also return every layer's attention weights `[B, nHead, T, S]` (for visualisation). */
  returnAttention?: boolean;
  /** A KV cache to read and extend (inference only: cached keys carry no gradient). */
  cache?: KVCache;
  /** Next-token targets `[B, T]` (int32 tensor or rows; -100 is ignored) to compute the mean cross-entropy `loss`. */
  targets?: Tensor | readonly (readonly number[])[];
  /** Compute logits for the last position only (what generation needs; saves the big output matmul). */
  lastOnly?: boolean;
  /**
   * With `targets`: `false` computes the loss straight from the last hidden state and the head's
   * weight, a chunk of rows at a time (core-tensor's `linearCrossEntropy`), so the `[B, T,
   * vocabSize]` logits and their gradient never exist whole (622 MB each in float32 for a 4 x
   * 256 batch and a 150k vocabulary); the output then has no `logits`. Default true. An adapted
   * or quantized head (a LoRA on `lm_head`, a packed table) takes the usual path.
   */
  returnLogits?: boolean;
  /**
   * Also return the final norm's output, the last hidden state `[B, T, nEmbd]` (`[B, 1, nEmbd]`
   * with `lastOnly`), as Hugging Face's `hidden_states[-1]`: what a value or reward head reads.
   */
  returnHiddenState?: boolean;
}

/** What {@link GPT.forward} returns. */
export interface CausalLMOutput {
  /** `[B, T, vocabSize]` (or `[B, 1, vocabSize]` with `lastOnly`); absent with `returnLogits: false`. */
  logits: Tensor;
  /** Mean cross-entropy over non-ignored targets, when `targets` were given. */
  loss?: Tensor;
  /** Per layer, the attention weights `[B, nHead, T, S]`, when `returnAttention` was set. */
  attentions?: Tensor[];
  /** The last hidden state `[B, T, nEmbd]` (after the final norm), when `returnHiddenState` was set. */
  hiddenState?: Tensor;
}

/**
 * A decoder-only transformer language model. GPT-2 semantics by default (learned positions,
 * pre-LayerNorm, tanh GELU, tied output head); see {@link llamaConfig} for the LLaMA-style variant.
 * Parameter names match Hugging Face's GPT-2 (`wte`, `wpe`, `h.N.attn.c_attn`, `ln_f`, ...).
 *
 * @example
 * ```ts
 * manualSeed(0);
 * const model = new GPT({ vocabSize: 100, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32 });
 * const { logits } = model.forward([[1, 2, 3]]); // [1, 3, 100]
 * const [row] = await model.generate([[1, 2, 3]], { maxNewTokens: 5 }); // 8 ids
 * ```
 */
export class GPT extends Module {
  /** The configuration with every default filled in. */
  readonly config: ResolvedGPTConfig;
  /** Token embedding `[vocabSize, nEmbd]` (also the output head when tied). */
  readonly wte: Embedding;
  /** Learned position embedding `[blockSize, nEmbd]` (null with RoPE). */
  readonly wpe: Embedding | null;
  /** The blocks. */
  readonly h: ModuleList<Block>;
  /** Final norm. */
  readonly ln_f: Module & { forward(x: Tensor): Tensor };
  /** Output head `[vocabSize, nEmbd]` when not tied to `wte`. */
  readonly lm_head: Linear | null;
  /**
   * Gradient checkpointing (Hugging Face's `gradient_checkpointing_enable()`): in training mode
   * each block keeps only its input and runs again during backward, so activation memory is one
   * block's instead of every block's, for about a third more compute. The blocks must then be
   * deterministic: dropout 0 (the model's and any adapter's). Default false.
   */
  gradientCheckpointing = false;
  private readonly drop: Dropout;
  private readonly rope: RopeTables | null;

  constructor(config: GPTConfig) {
    super();
    const c = resolveGPTConfig(config); // validate before allocating anything
    this.config = c;
    this.wte = this.addModule('wte', new Embedding(c.vocabSize, c.nEmbd, { std: 0.02 }));
    this.wpe =
      c.positionEncoding === 'learned'
        ? this.addModule('wpe', new Embedding(c.blockSize, c.nEmbd, { std: 0.02 }))
        : null;
    this.drop = this.addModule('drop', new Dropout(c.dropout));
    this.h = this.addModule(
      'h',
      new ModuleList(Array.from({ length: c.nLayer }, (_, i) => new Block(c, i))),
    );
    this.ln_f = this.addModule('ln_f', makeNorm(c));
    this.lm_head = c.tieWordEmbeddings
      ? null
      : this.addModule('lm_head', new Linear(c.nEmbd, c.vocabSize, { bias: false }));
    if (c.positionEncoding === 'rope') {
      const tables = ropeTables(c.blockSize, c.headSize, c.ropeTheta, c.ropeScaling);
      this.rope = { cos: keep(tables.cos), sin: keep(tables.sin) };
    } else {
      this.rope = null;
    }
    this.initWeights();
  }

  // GPT-2's initialisation: N(0, 0.02) weights, zero biases, and residual projections scaled by
  // 1/sqrt(2 nLayer) so the residual stream's variance does not grow with depth.
  private initWeights(): void {
    for (const [name, module] of this.namedModules()) {
      if (!(module instanceof Linear)) continue;
      const residual = name.endsWith('c_proj');
      init.normal(module.weight, 0, residual ? 0.02 / Math.sqrt(2 * this.config.nLayer) : 0.02);
      if (module.bias) init.zeros(module.bias);
    }
  }

  /**
   * Runs the model on token ids `[B, T]` and returns next-token logits (and the loss, and the
   * attention weights, when asked). Rows padded on either side are handled with `attentionMask`:
   * position ids count real tokens only and padding is never attended to.
   */
  forward(inputIds: TokenIds, options: ForwardOptions = {}): CausalLMOutput {
    const c = this.config;
    const batch = readTokenIds(inputIds, 'inputIds'); // a tensor stays on its device
    const [B, T] = batch.shape;
    const maskRows = options.attentionMask
      ? checkMask(toRows(options.attentionMask, 'attentionMask'), B, T)
      : noPadding(batch.shape);
    const past = options.cache?.length ?? 0;
    if (past + T > c.blockSize) {
      throw new TransformerError(
        'prompt_too_long',
        `GPT.forward: ${past ? `${past} cached + ` : ''}${T} positions exceed blockSize ${c.blockSize}`,
      );
    }
    const { positions, keyMask } = options.cache
      ? options.cache.extend(maskRows)
      : { positions: positionIds(maskRows, new Array(B).fill(0)), keyMask: maskRows };
    return tidy(() => {
      const ids = tokenTensor(batch, c.vocabSize, this.wte.weight);
      const positionTensor = fromValues(Int32Array.from(positions.flat()), [B, T], {
        dtype: 'int32',
        backend: this.wte.weight.backend.name,
      });
      let x = this.wte.forward(ids); // token embeddings (B, T, C)
      if (this.wpe) x = add(x, this.wpe.forward(positionTensor)); // + position embeddings
      x = this.drop.forward(x);
      const padded = hasPadding(keyMask);
      const context: LayerContext = {
        mask: padded
          ? attentionMask(keyMask, T, { causal: true, keepSelf: true, like: x })
          : undefined,
        causal: !padded,
        rope: this.rope ? ropeAt(this.rope, positionTensor) : undefined,
        cache: options.cache,
        returnAttention: options.returnAttention ?? false,
      };
      const attentions: Tensor[] = [];
      const recompute =
        this.gradientCheckpointing && this.training && !options.cache && !options.returnAttention;
      for (const block of this.h) {
        if (recompute) {
          // keeps only the block's input (and the pass's RoPE angles and mask, which this
          // forward frees); its activations are made again during backward
          const { rope, mask } = context;
          const extra = [rope?.cos, rope?.sin, mask].filter((t): t is Tensor => t !== undefined);
          x = gradientCheckpoint(
            (input, ...kept) => {
              const again: LayerContext = { ...context };
              if (rope) again.rope = { cos: kept[0], sin: kept[1] };
              if (mask) again.mask = kept[kept.length - 1];
              return block.forward(input, again).output;
            },
            x,
            ...extra,
          );
          continue;
        }
        // Each block's intermediates, and its input, are freed as soon as it is done (the
        // gradient's saved tensors hold their own references), so a long prompt's activations
        // live one layer at a time.
        const input = x;
        const { output, weights } = tidy(() => block.forward(input, context));
        input.dispose();
        x = output;
        if (weights) attentions.push(weights);
      }
      x = this.ln_f.forward(x);
      if (options.lastOnly) x = narrow(x, 1, T - 1, 1);
      const head = options.targets && options.returnLogits === false ? this.plainHead() : null;
      if (head && options.targets) {
        const target = targetTensor(options.targets, B, T, x.backend.name);
        const rows = reshape(x, [B * T, c.nEmbd]);
        const loss = linearCrossEntropy(rows, head, reshape(target, [B * T]));
        const out = { loss } as CausalLMOutput; // no logits were made
        if (options.returnAttention) out.attentions = attentions;
        if (options.returnHiddenState) out.hiddenState = x;
        return out;
      }
      const logits = this.lm_head ? this.lm_head.forward(x) : tiedHead(this.wte, x);
      const out: CausalLMOutput = { logits };
      if (options.targets) out.loss = languageModelLoss(logits, options.targets, B, T);
      if (options.returnAttention) out.attentions = attentions;
      if (options.returnHiddenState) out.hiddenState = x;
      return out;
    });
  }

  /**
   * Continues each prompt (rows may differ in length) with @llmkit/sampling's generation loop and
   * a KV cache; returns prompt plus new tokens per row (`numReturnSequences` rows per prompt).
   *
   * @example
   * ```ts
   * const rows = await model.generate([[1, 2], [3]], { maxNewTokens: 10, doSample: true, topK: 50, seed: 1 });
   * ```
   */
  async generate(
    inputIds: readonly (readonly number[])[],
    options: GenerateOptions = {},
  ): Promise<number[][]> {
    return (await this.generateWithDetails(inputIds, options)).sequences;
  }

  /** Like {@link GPT.generate}, also returning each row's finish reason (and beam scores). */
  generateWithDetails(
    inputIds: readonly (readonly number[])[],
    options: GenerateOptions = {},
  ): Promise<GenerationOutput> {
    return generateTokens(this, inputIds, options);
  }

  /**
   * Streams generated tokens as they are chosen (greedy or sampling; not beam search).
   *
   * @example
   * ```ts
   * for await (const { row, token } of model.stream([[1, 2, 3]], { maxNewTokens: 20 })) console.log(row, token);
   * ```
   */
  stream(
    inputIds: readonly (readonly number[])[],
    options: GenerateOptions = {},
  ): AsyncGenerator<TokenEvent, GenerationOutput, undefined> {
    return streamGeneratedTokens(this, inputIds, options);
  }

  /**
   * Next-token logits of each row's last position, `[B * vocabSize]` (used by generation). Reads
   * back with `await data()`, so it works on backends that only read asynchronously (WebGPU).
   */
  async nextTokenLogits(ids: number[][], mask: number[][], cache?: KVCache): Promise<Float32Array> {
    const { logits } = noGrad(() =>
      this.forward(ids, { attentionMask: mask, cache, lastOnly: true }),
    );
    try {
      return await logits.data<Float32Array>();
    } finally {
      logits.dispose();
    }
  }

  /**
   * The output head's weight when the head is a plain product with it (`lm_head` a Linear
   * without bias whose forward is its own, or the tied `wte` table), else null.
   */
  private plainHead(): Tensor | null {
    const head = this.lm_head;
    if (head)
      return head instanceof Linear && !head.bias && head.forward === Linear.prototype.forward
        ? head.weight
        : null;
    const wte = this.wte as Embedding & { attend?: unknown };
    return wte instanceof Embedding && !wte.attend ? wte.weight : null;
  }

  /** Frees parameters and the RoPE tables. */
  override dispose(): void {
    super.dispose();
    this.rope?.cos.dispose();
    this.rope?.sin.dispose();
  }
}

/**
 * The output head tied to the token embedding: `x @ wte^T` (the table may be float32 or a
 * frozen bfloat16 / float16), or the table's own `attend` when it
 * has one (a packed table of @llmkit/quantize multiplies by its packed rows; Flax's `nn.Embed`
 * names it the same).
 */
function tiedHead(wte: Embedding & { attend?(x: Tensor): Tensor }, x: Tensor): Tensor {
  return wte.attend ? wte.attend(x) : linear(x, wte.weight);
}

/** Checks that a mask is 0/1 of shape [B, T]. */
export function checkMask(mask: number[][], B: number, T: number): number[][] {
  if (mask.length !== B || mask[0].length !== T) {
    throw new TransformerError(
      'invalid_data',
      `attentionMask is [${mask.length}, ${mask[0].length}], expected [${B}, ${T}] like inputIds`,
    );
  }
  for (const row of mask)
    for (const m of row)
      if (m !== 0 && m !== 1) {
        throw new TransformerError(
          'invalid_data',
          `attentionMask holds ${m}; expected 0 (padding) or 1 (token)`,
        );
      }
  mask.forEach((row, b) => {
    if (!row.includes(1))
      throw new TransformerError('invalid_data', `attentionMask row ${b} has no real token`);
  });
  return mask;
}

/** Targets `[B, T]` as an int32 tensor, checked against the batch. */
function targetTensor(
  targets: Tensor | readonly (readonly number[])[],
  B: number,
  T: number,
  backend: string,
): Tensor {
  const target = Array.isArray(targets)
    ? fromValues(Int32Array.from((targets as number[][]).flat()), [B, T], {
        dtype: 'int32',
        backend,
      })
    : (targets as Tensor);
  if (target.size !== B * T) {
    throw new TransformerError(
      'invalid_data',
      `targets have ${target.size} entries, expected ${B} x ${T}`,
    );
  }
  return target;
}

/** Mean cross-entropy of logits `[B, T, V]` against targets `[B, T]` (-100 ignored). */
export function languageModelLoss(
  logits: Tensor,
  targets: Tensor | readonly (readonly number[])[],
  B: number,
  T: number,
): Tensor {
  const V = logits.shape[logits.rank - 1];
  const target = targetTensor(targets, B, T, logits.backend.name);
  return crossEntropy(reshape(logits, [B * T, V]), reshape(target, [B * T]), { ignoreIndex: -100 });
}
