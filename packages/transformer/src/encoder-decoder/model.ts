// EncoderDecoder: the original Transformer (Vaswani et al., 2017) for sequence-to-sequence tasks
// (translation, summarisation): an encoder reads the source bidirectionally, a decoder generates
// the target with masked self-attention plus cross-attention to the encoder output. Positions are
// sinusoidal (fixed, as in the paper) or learned; embeddings are shared or separate. Layers are
// pre-LN (see layers.ts). Not handled: relative position buckets (T5), label smoothing (pass it to
// your loss), mixture-of-experts.
import {
  add,
  crossEntropy,
  Embedding,
  embedding,
  fromValues,
  init,
  keep,
  LayerNorm,
  Linear,
  linear,
  Module,
  ModuleList,
  mul,
  narrow,
  noGrad,
  reshape,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import type { GenerationOutput, TokenEvent } from '@llmkit/sampling';
import { TransformerError } from '../errors.js';
import { checkMask } from '../gpt/model.js';
import type { KVCache } from '../kv-cache.js';
import {
  attentionMask,
  hasPadding,
  noPadding,
  type PaddingMask,
  positionIds,
  readTokenIds,
  type TokenBatch,
  type TokenIds,
  tokenTensor,
  toRows,
} from '../masks.js';
import { named } from '../named.js';
import {
  type EncoderDecoderConfig,
  type ResolvedEncoderDecoderConfig,
  resolveEncoderDecoderConfig,
} from './config.js';
import { type Seq2SeqGenerateOptions, generateSeq2Seq, streamSeq2Seq } from './generate.js';
import { TransformerDecoderLayer, TransformerEncoderLayer } from './layers.js';

/** The encoder's output, as {@link EncoderDecoder.decode} consumes it. */
export interface EncoderMemory {
  /** `[B, S, nEmbd]` (may be null once every layer's cross keys and values are cached). */
  hidden: Tensor | null;
  /** Source padding per row (1 = token). */
  mask: number[][];
  /** Encoder attention weights per layer, when asked. */
  attentions?: Tensor[];
}

/** Options of {@link EncoderDecoder.decode}. */
export interface DecodeOptions {
  /** Target padding per row. */
  attentionMask?: PaddingMask;
  /** KV cache (self-attention extended; cross-attention filled on first use). */
  cache?: KVCache;
  /** Logits of the last position only. */
  lastOnly?: boolean;
  /** Keep attention weights. */
  returnAttention?: boolean;
}

/** What {@link EncoderDecoder.forward} returns. */
export interface Seq2SeqOutput {
  /** `[B, T, targetVocabSize]`. */
  logits: Tensor;
  /** Mean cross-entropy against `labels` (-100 ignored), when given. */
  loss?: Tensor;
  /** Encoder self-attention per layer `[B, H, S, S]`. */
  encoderAttentions?: Tensor[];
  /** Decoder self-attention per layer `[B, H, T, T]`. */
  decoderAttentions?: Tensor[];
  /** Cross-attention per layer `[B, H, T, S]`. */
  crossAttentions?: Tensor[];
}

/** The sinusoidal encodings: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(same). */
export function sinusoidalPositions(positions: number, width: number): Float32Array {
  const table = new Float32Array(positions * width);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < width; i += 2) {
      const angle = p / 10000 ** (i / width);
      table[p * width + i] = Math.sin(angle);
      table[p * width + i + 1] = Math.cos(angle);
    }
  }
  return table;
}

/** One side of the model: its own embeddings (when not shared), its layers and a final norm. */
export type Stack<L extends Module> = Module & {
  /** Token embedding when embeddings are not shared. */
  embed_tokens?: Embedding;
  /** Learned position embedding (with `positionEncoding: 'learned'`). */
  embed_positions?: Embedding;
  /** The layers. */
  layers: ModuleList<L>;
  /** Norm after the last layer (pre-LN models need it). */
  layer_norm: LayerNorm;
};

/**
 * The original Transformer: encoder, decoder with cross-attention, an output head. Train it with
 * `forward(source, decoderInput, { labels })`; decode with `generate`.
 *
 * @example
 * ```ts
 * const model = new EncoderDecoder({ vocabSize: 32, blockSize: 16, nEncoderLayer: 2, nDecoderLayer: 2, nHead: 2, nEmbd: 32 });
 * const { loss } = model.forward([[5, 6, 7]], [[1, 7, 6]], { labels: [[7, 6, 5]] });
 * const out = await model.generate([[5, 6, 7]], { decoderStartTokenId: 1, maxNewTokens: 3 });
 * ```
 */
export class EncoderDecoder extends Module {
  /** The configuration with every default filled in. */
  readonly config: ResolvedEncoderDecoderConfig;
  /** The token embedding of both sides, when shared. */
  readonly shared: Embedding | null;
  /** Embeddings (when not shared), layers and final norm of the encoder. */
  readonly encoder: Stack<TransformerEncoderLayer>;
  /** Embeddings (when not shared), layers and final norm of the decoder. */
  readonly decoder: Stack<TransformerDecoderLayer>;
  /** Output head when not tied. */
  readonly lm_head: Linear | null;
  private readonly sinusoid: Tensor | null;

  constructor(config: EncoderDecoderConfig) {
    super();
    const c = resolveEncoderDecoderConfig(config);
    this.config = c;
    const embedding = (n: number) =>
      new Embedding(n, c.nEmbd, { std: c.scaleEmbeddings ? c.nEmbd ** -0.5 : 0.02 });
    this.shared = c.shareEmbeddings ? this.addModule('shared', embedding(c.vocabSize)) : null;
    const stack = <L extends Module>(vocab: number, layers: L[]) =>
      named({
        ...(c.shareEmbeddings ? {} : { embed_tokens: embedding(vocab) }),
        ...(c.positionEncoding === 'learned' ? { embed_positions: embedding(c.blockSize) } : {}),
        layers: new ModuleList(layers),
        layer_norm: new LayerNorm(c.nEmbd, { epsilon: c.normEpsilon }),
      }) as Stack<L>;
    this.encoder = this.addModule(
      'encoder',
      stack(
        c.vocabSize,
        Array.from({ length: c.nEncoderLayer }, (_, i) => new TransformerEncoderLayer(c, i)),
      ),
    );
    this.decoder = this.addModule(
      'decoder',
      stack(
        c.targetVocabSize,
        Array.from({ length: c.nDecoderLayer }, (_, i) => new TransformerDecoderLayer(c, i)),
      ),
    );
    this.lm_head = c.tieWordEmbeddings
      ? null
      : this.addModule('lm_head', new Linear(c.nEmbd, c.targetVocabSize, { bias: false }));
    this.sinusoid =
      c.positionEncoding === 'sinusoidal'
        ? keep(fromValues(sinusoidalPositions(c.blockSize, c.nEmbd), [c.blockSize, c.nEmbd]))
        : null;
    for (const [, module] of this.namedModules()) {
      if (module instanceof Linear) {
        init.xavierUniform(module.weight);
        if (module.bias) init.zeros(module.bias);
      }
    }
  }

  private tokenEmbedding(side: 'encoder' | 'decoder'): Embedding {
    return this.shared ?? this[side].embed_tokens!;
  }

  private embed(side: 'encoder' | 'decoder', batch: TokenBatch, positions: number[][]): Tensor {
    const c = this.config;
    const table = this.tokenEmbedding(side);
    const [B, T] = batch.shape;
    let x = table.forward(
      tokenTensor(batch, side === 'encoder' ? c.vocabSize : c.targetVocabSize, table.weight),
    );
    if (c.scaleEmbeddings) x = mul(x, Math.sqrt(c.nEmbd));
    const ids = fromValues(Int32Array.from(positions.flat()), [B, T], {
      dtype: 'int32',
      backend: table.weight.backend.name,
    });
    const positionTable = this[side].embed_positions;
    return add(x, positionTable ? positionTable.forward(ids) : embedding(ids, this.sinusoid!));
  }

  private checkLength(T: number, what: string): void {
    if (T > this.config.blockSize) {
      throw new TransformerError(
        'prompt_too_long',
        `EncoderDecoder: ${what} of ${T} positions exceeds blockSize ${this.config.blockSize}`,
      );
    }
  }

  /** Runs the encoder on source ids `[B, S]` (padding marked by `attentionMask`). */
  encode(
    sourceIds: TokenIds,
    options: { attentionMask?: PaddingMask; returnAttention?: boolean } = {},
  ): EncoderMemory {
    const batch = readTokenIds(sourceIds, 'sourceIds'); // a tensor stays on its device
    const [B, S] = batch.shape;
    this.checkLength(S, 'source');
    const mask = options.attentionMask
      ? checkMask(toRows(options.attentionMask, 'sourceMask'), B, S)
      : noPadding(batch.shape);
    return tidy(() => {
      let x = this.embed('encoder', batch, positionIds(mask, new Array(B).fill(0)));
      const attention = hasPadding(mask)
        ? attentionMask(mask, S, { causal: false, keepSelf: true, like: x })
        : undefined;
      const attentions: Tensor[] = [];
      for (const layer of this.encoder.layers) {
        const { output, weights } = layer.forward(x, attention, options.returnAttention ?? false);
        x = output;
        if (weights) attentions.push(weights);
      }
      const memory: EncoderMemory = { hidden: this.encoder.layer_norm.forward(x), mask };
      if (options.returnAttention) memory.attentions = attentions;
      return memory;
    });
  }

  /** Runs the decoder on target ids `[B, T]` against the encoder output; returns logits. */
  decode(
    targetIds: TokenIds,
    memory: EncoderMemory,
    options: DecodeOptions = {},
  ): { logits: Tensor; selfAttentions?: Tensor[]; crossAttentions?: Tensor[] } {
    const batch = readTokenIds(targetIds, 'decoderInputIds');
    const [B, T] = batch.shape;
    const past = options.cache?.length ?? 0;
    this.checkLength(past + T, 'target');
    if (memory.mask.length !== B) {
      throw new TransformerError(
        'invalid_data',
        `EncoderDecoder.decode: ${B} target rows but ${memory.mask.length} source rows`,
      );
    }
    const mask = options.attentionMask
      ? checkMask(toRows(options.attentionMask, 'decoderAttentionMask'), B, T)
      : noPadding(batch.shape);
    const { positions, keyMask } = options.cache
      ? options.cache.extend(mask)
      : { positions: positionIds(mask, new Array(B).fill(0)), keyMask: mask };
    return tidy(() => {
      let x = this.embed('decoder', batch, positions);
      const padded = hasPadding(keyMask);
      const returnAttention = options.returnAttention ?? false;
      const self = {
        mask: padded
          ? attentionMask(keyMask, T, { causal: true, keepSelf: true, like: x })
          : undefined,
        causal: !padded,
        cache: options.cache,
        returnAttention,
      };
      const cross = {
        mask: hasPadding(memory.mask)
          ? attentionMask(memory.mask, T, { causal: false, keepSelf: false, like: x })
          : undefined,
        cache: options.cache,
        returnAttention,
      };
      const selfAttentions: Tensor[] = [];
      const crossAttentions: Tensor[] = [];
      for (const layer of this.decoder.layers) {
        const out = layer.forward(x, memory.hidden, self, cross);
        x = out.output;
        if (out.selfWeights) selfAttentions.push(out.selfWeights);
        if (out.crossWeights) crossAttentions.push(out.crossWeights);
      }
      x = this.decoder.layer_norm.forward(x);
      if (options.lastOnly) x = narrow(x, 1, T - 1, 1);
      const logits = this.lm_head
        ? this.lm_head.forward(x)
        : linear(x, this.tokenEmbedding('decoder').weight);
      return returnAttention ? { logits, selfAttentions, crossAttentions } : { logits };
    });
  }

  /**
   * Teacher-forced forward pass: encode `sourceIds`, decode `decoderInputIds` (the target shifted
   * right behind a start token), and compare with `labels` (the target; -100 ignored) when given.
   */
  forward(
    sourceIds: TokenIds,
    decoderInputIds: TokenIds,
    options: {
      sourceMask?: PaddingMask;
      decoderAttentionMask?: PaddingMask;
      labels?: readonly (readonly number[])[];
      returnAttention?: boolean;
    } = {},
  ): Seq2SeqOutput {
    const memory = this.encode(sourceIds, {
      attentionMask: options.sourceMask,
      returnAttention: options.returnAttention,
    });
    const decoded = this.decode(decoderInputIds, memory, {
      attentionMask: options.decoderAttentionMask,
      returnAttention: options.returnAttention,
    });
    memory.hidden?.dispose();
    const out: Seq2SeqOutput = { logits: decoded.logits };
    if (options.labels) {
      const [B, T, V] = decoded.logits.shape;
      const flat = options.labels.flat();
      if (flat.length !== B * T)
        throw new TransformerError(
          'invalid_data',
          `labels have ${flat.length} entries, expected ${B} x ${T}`,
        );
      out.loss = tidy(() => {
        const target = fromValues(Int32Array.from(flat), [B * T], {
          dtype: 'int32',
          backend: decoded.logits.backend.name,
        });
        return crossEntropy(reshape(decoded.logits, [B * T, V]), target, { ignoreIndex: -100 });
      });
    }
    if (options.returnAttention) {
      out.encoderAttentions = memory.attentions;
      out.decoderAttentions = decoded.selfAttentions;
      out.crossAttentions = decoded.crossAttentions;
    }
    return out;
  }

  /**
   * Generates a target for each source row (rows may differ in length; they are right-padded and
   * masked), starting from `decoderStartTokenId`; returns the start token plus new tokens per row.
   *
   * @example
   * ```ts
   * const targets = await model.generate([[5, 6, 7], [8, 9]], { decoderStartTokenId: 1, eosTokenId: 2, maxNewTokens: 10 });
   * ```
   */
  async generate(
    sourceIds: readonly (readonly number[])[],
    options: Seq2SeqGenerateOptions,
  ): Promise<number[][]> {
    return (await generateSeq2Seq(this, sourceIds, options)).sequences;
  }

  /** Streams the generated target tokens (greedy or sampling). */
  stream(
    sourceIds: readonly (readonly number[])[],
    options: Seq2SeqGenerateOptions,
  ): AsyncGenerator<TokenEvent, GenerationOutput, undefined> {
    return streamSeq2Seq(this, sourceIds, options);
  }

  /** Last-position logits `[B * targetVocabSize]` (used by generation; reads back asynchronously). */
  async nextTokenLogits(
    rows: number[][],
    memory: EncoderMemory,
    cache?: KVCache,
  ): Promise<Float32Array> {
    const { logits } = noGrad(() => this.decode(rows, memory, { cache, lastOnly: true }));
    try {
      return await logits.data<Float32Array>();
    } finally {
      logits.dispose();
    }
  }

  /** Frees parameters and the sinusoid table. */
  override dispose(): void {
    super.dispose();
    this.sinusoid?.dispose();
  }
}
