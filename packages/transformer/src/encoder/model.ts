// Encoder: a bidirectional transformer in BERT's shape (Devlin et al., 2019): word + position
// (+ token type) embeddings, LayerNorm, then post-LayerNorm layers (x = LN(x + attn(x)); x = LN(x +
// mlp(x))), and a pooler (dense + tanh on the first token). Parameter names follow Hugging Face's
// BertModel (`embeddings.word_embeddings`, `encoder.layer.N.attention.self.query`, ...), so a BERT
// loader is a name-for-name copy. Not handled: relative positions, ALiBi, pre-LN variants.
import {
  add,
  Dropout,
  Embedding,
  fromValues,
  init,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  narrow,
  squeeze,
  tanh,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import { attend, mergeHeads, splitHeads } from '../attention.js';
import { TransformerError } from '../errors.js';
import { activate } from '../gpt/mlp.js';
import { checkMask } from '../gpt/model.js';
import {
  attentionMask,
  hasPadding,
  noPadding,
  type PaddingMask,
  readTokenIds,
  type TokenBatch,
  type TokenIds,
  tokenTensor,
  toRows,
} from '../masks.js';
import { named } from '../named.js';
import { type EncoderConfig, type ResolvedEncoderConfig, resolveEncoderConfig } from './config.js';

/** Options of {@link Encoder.forward}. */
export interface EncoderForwardOptions {
  /** 1 for real tokens, 0 for padding, per row (default: no padding). */
  attentionMask?: PaddingMask;
  /** Segment ids per token (default all 0); needs `typeVocabSize > 0`. */
  tokenTypeIds?: TokenIds;
  /** Also return each layer's attention weights `[B, nHead, T, T]`. */
  returnAttention?: boolean;
}

/** What {@link Encoder.forward} returns. */
export interface EncoderOutput {
  /** `[B, T, nEmbd]`: one contextual vector per token. */
  lastHiddenState: Tensor;
  /** `[B, nEmbd]`: tanh(dense(first token)), when the config has a pooler. */
  pooledOutput?: Tensor;
  /** Per layer, `[B, nHead, T, T]`, when asked. */
  attentions?: Tensor[];
  /** The padding mask rows used (all ones when none was given). */
  mask: number[][];
}

/** One post-LayerNorm BERT layer: self-attention, then the MLP, each followed by add and norm. */
export class EncoderLayer extends Module {
  /** `self.{query, key, value}` and `output.{dense, LayerNorm}`. */
  readonly attention;
  /** `dense`: the MLP's first matrix. */
  readonly intermediate;
  /** `dense` and `LayerNorm`: the MLP's second matrix and the layer's last norm. */
  readonly output;
  private readonly dropout: Dropout;

  constructor(private readonly config: ResolvedEncoderConfig) {
    super();
    const { nEmbd, intermediateSize, normEpsilon } = config;
    const linear = (i: number, o: number) => new Linear(i, o);
    this.attention = this.addModule(
      'attention',
      named({
        self: named({
          query: linear(nEmbd, nEmbd),
          key: linear(nEmbd, nEmbd),
          value: linear(nEmbd, nEmbd),
        }),
        output: named({
          dense: linear(nEmbd, nEmbd),
          LayerNorm: new LayerNorm(nEmbd, { epsilon: normEpsilon }),
        }),
      }),
    );
    this.intermediate = this.addModule(
      'intermediate',
      named({ dense: linear(nEmbd, intermediateSize) }),
    );
    this.output = this.addModule(
      'output',
      named({
        dense: linear(intermediateSize, nEmbd),
        LayerNorm: new LayerNorm(nEmbd, { epsilon: normEpsilon }),
      }),
    );
    this.dropout = this.addModule('dropout', new Dropout(config.dropout));
  }

  forward(
    x: Tensor,
    mask: Tensor | undefined,
    returnAttention: boolean,
  ): { output: Tensor; weights?: Tensor } {
    const { nHead, dropout } = this.config;
    const self = this.attention.self;
    const q = splitHeads(self.query.forward(x), nHead); // (B, nh, T, hs)
    const k = splitHeads(self.key.forward(x), nHead);
    const v = splitHeads(self.value.forward(x), nHead);
    const { output, weights } = attend(q, k, v, {
      mask,
      dropout: this.training ? dropout : 0,
      returnWeights: returnAttention,
    });
    const projected = this.dropout.forward(this.attention.output.dense.forward(mergeHeads(output)));
    const h = this.attention.output.LayerNorm.forward(add(x, projected));
    const hidden = activate(this.intermediate.dense.forward(h), this.config.activation);
    const out = this.output.LayerNorm.forward(
      add(h, this.dropout.forward(this.output.dense.forward(hidden))),
    );
    return { output: out, weights };
  }
}

/**
 * A BERT-style encoder: contextual vectors for every token, and a pooled vector per sequence.
 * Use the heads ({@link EncoderForMaskedLM}, {@link EncoderForSequenceClassification},
 * {@link meanPooledEmbeddings}) for tasks.
 *
 * @example
 * ```ts
 * const encoder = new Encoder({ vocabSize: 100, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32 });
 * const { lastHiddenState, pooledOutput } = encoder.forward([[5, 6, 7, 0]], { attentionMask: [[1, 1, 1, 0]] });
 * ```
 */
export class Encoder extends Module {
  /** The configuration with every default filled in. */
  readonly config: ResolvedEncoderConfig;
  /** Word, position and token-type embeddings plus their LayerNorm. */
  readonly embeddings;
  /** The layers, as `encoder.layer.N`. */
  readonly encoder;
  /** Dense + tanh on the first token (null without a pooler). */
  readonly pooler;
  private readonly dropout: Dropout;

  constructor(config: EncoderConfig) {
    super();
    const c = resolveEncoderConfig(config);
    this.config = c;
    const embedding = (n: number) => new Embedding(n, c.nEmbd, { std: 0.02 });
    this.embeddings = this.addModule(
      'embeddings',
      named({
        word_embeddings: embedding(c.vocabSize),
        position_embeddings: embedding(c.blockSize),
        ...(c.typeVocabSize > 0 ? { token_type_embeddings: embedding(c.typeVocabSize) } : {}),
        LayerNorm: new LayerNorm(c.nEmbd, { epsilon: c.normEpsilon }),
      }) as Module & {
        word_embeddings: Embedding;
        position_embeddings: Embedding;
        token_type_embeddings?: Embedding;
        LayerNorm: LayerNorm;
      },
    );
    this.encoder = this.addModule(
      'encoder',
      named({ layer: new ModuleList(Array.from({ length: c.nLayer }, () => new EncoderLayer(c))) }),
    );
    this.pooler = c.pooler
      ? this.addModule('pooler', named({ dense: new Linear(c.nEmbd, c.nEmbd) }))
      : null;
    this.dropout = this.addModule('dropout', new Dropout(c.dropout));
    // BERT's initialisation: N(0, 0.02) weights, zero biases
    for (const [, module] of this.namedModules()) {
      if (module instanceof Linear) {
        init.normal(module.weight, 0, 0.02);
        if (module.bias) init.zeros(module.bias);
      }
    }
  }

  /** Encodes token ids `[B, T]` (padding marked by `attentionMask`). */
  forward(inputIds: TokenIds, options: EncoderForwardOptions = {}): EncoderOutput {
    const c = this.config;
    const batch = readTokenIds(inputIds, 'inputIds'); // a tensor stays on its device
    const [B, T] = batch.shape;
    if (T > c.blockSize) {
      throw new TransformerError(
        'prompt_too_long',
        `Encoder.forward: ${T} positions exceed blockSize ${c.blockSize}`,
      );
    }
    const mask = options.attentionMask
      ? checkMask(toRows(options.attentionMask, 'attentionMask'), B, T)
      : noPadding(batch.shape);
    let types: TokenBatch | undefined;
    if (options.tokenTypeIds) {
      if (c.typeVocabSize === 0) {
        throw new TransformerError(
          'invalid_data',
          'Encoder.forward: tokenTypeIds given but typeVocabSize is 0',
        );
      }
      types = readTokenIds(options.tokenTypeIds, 'tokenTypeIds');
      if (types.shape[0] !== B || types.shape[1] !== T) {
        throw new TransformerError(
          'invalid_data',
          `Encoder.forward: tokenTypeIds are [${types.shape}], expected [${B}, ${T}] like inputIds`,
        );
      }
    }
    const out = tidy(() => {
      const weight = this.embeddings.word_embeddings.weight;
      const backend = weight.backend.name;
      let x = this.embeddings.word_embeddings.forward(tokenTensor(batch, c.vocabSize, weight));
      const positions = fromValues(
        Int32Array.from({ length: B * T }, (_, i) => i % T),
        [B, T],
        { dtype: 'int32', backend },
      );
      x = add(x, this.embeddings.position_embeddings.forward(positions));
      if (this.embeddings.token_type_embeddings) {
        const typeIds = types
          ? tokenTensor(types, c.typeVocabSize, weight)
          : fromValues(new Int32Array(B * T), [B, T], { dtype: 'int32', backend });
        x = add(x, this.embeddings.token_type_embeddings.forward(typeIds));
      }
      x = this.dropout.forward(this.embeddings.LayerNorm.forward(x));
      const attention = hasPadding(mask)
        ? attentionMask(mask, T, { causal: false, keepSelf: true, like: x })
        : undefined;
      const attentions: Tensor[] = [];
      for (const layer of this.encoder.layer) {
        const { output, weights } = layer.forward(x, attention, options.returnAttention ?? false);
        x = output;
        if (weights) attentions.push(weights);
      }
      const result: Omit<EncoderOutput, 'mask'> = { lastHiddenState: x };
      if (this.pooler)
        result.pooledOutput = tanh(this.pooler.dense.forward(squeeze(narrow(x, 1, 0, 1), 1)));
      if (options.returnAttention) result.attentions = attentions;
      return result;
    });
    return { ...out, mask };
  }
}
