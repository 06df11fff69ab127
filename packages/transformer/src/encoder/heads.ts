// Task heads on the encoder: masked-LM (BERT's pretraining objective), sequence classification
// (on the pooled first token) and mean-pooled sentence embeddings (Reimers and Gurevych, 2019).
import {
  crossEntropy,
  div,
  Dropout,
  fromValues,
  gelu,
  LayerNorm,
  Linear,
  linear,
  Module,
  mul,
  reshape,
  sqrt,
  sum,
  type Tensor,
  tidy,
  zeros,
  clamp,
} from '@llmkit/core-tensor';
import { TransformerError } from '../errors.js';
import { languageModelLoss } from '../gpt/model.js';
import { named } from '../named.js';
import type { EncoderConfig } from './config.js';
import { Encoder, type EncoderForwardOptions } from './model.js';

/** What the encoder heads return. */
export interface HeadOutput {
  /** Masked-LM: `[B, T, vocabSize]`; classification: `[B, numLabels]`. */
  logits: Tensor;
  /** Mean cross-entropy against `labels`, when given. */
  loss?: Tensor;
  /** Per layer attention weights, when asked. */
  attentions?: Tensor[];
}

/**
 * BERT's masked-language-model head: transform (dense, GELU, LayerNorm), then a decoder tied to
 * the word embeddings plus a bias. Labels are the original ids at masked positions and -100
 * elsewhere.
 *
 * @example
 * ```ts
 * const mlm = new EncoderForMaskedLM({ vocabSize: 100, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 });
 * const { logits, loss } = mlm.forward([[5, 3, 7]], { labels: [[-100, 6, -100]] }); // 3 = [MASK]
 * ```
 */
export class EncoderForMaskedLM extends Module {
  /** The encoder (no pooler, as Hugging Face's BertForMaskedLM). */
  readonly bert: Encoder;
  /** `cls.predictions.transform.{dense, LayerNorm}` and `cls.predictions.bias`. */
  readonly cls;

  constructor(config: EncoderConfig) {
    super();
    this.bert = this.addModule('bert', new Encoder({ ...config, pooler: false }));
    const c = this.bert.config;
    const predictions = named({
      transform: named({
        dense: new Linear(c.nEmbd, c.nEmbd),
        LayerNorm: new LayerNorm(c.nEmbd, { epsilon: c.normEpsilon }),
      }),
    });
    const bias = predictions.addParameter('bias', zeros([c.vocabSize]));
    this.cls = this.addModule('cls', named({ predictions: Object.assign(predictions, { bias }) }));
  }

  /** Token logits over the vocabulary, and the loss against `labels` (-100 = not masked). */
  forward(
    inputIds: Parameters<Encoder['forward']>[0],
    options: EncoderForwardOptions & { labels?: readonly (readonly number[])[] | Tensor } = {},
  ): HeadOutput {
    const { lastHiddenState, attentions } = this.bert.forward(inputIds, options);
    return tidy(() => {
      const p = this.cls.predictions;
      const h = p.transform.LayerNorm.forward(gelu(p.transform.dense.forward(lastHiddenState)));
      const logits = linear(h, this.bert.embeddings.word_embeddings.weight, p.bias);
      const [B, T] = lastHiddenState.shape;
      lastHiddenState.dispose();
      const out: HeadOutput = { logits };
      if (options.labels) out.loss = languageModelLoss(logits, options.labels, B, T);
      if (attentions) out.attentions = attentions;
      return out;
    });
  }
}

/**
 * Sequence classification on the pooled first token (BERT's [CLS]): dropout, then a linear layer
 * to `numLabels` logits.
 *
 * @example
 * ```ts
 * const classifier = new EncoderForSequenceClassification({ vocabSize: 100, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 }, 3);
 * const { logits, loss } = classifier.forward([[1, 5, 6]], { labels: [2] });
 * ```
 */
export class EncoderForSequenceClassification extends Module {
  /** The encoder (with pooler). */
  readonly bert: Encoder;
  /** `[numLabels, nEmbd]`. */
  readonly classifier: Linear;
  private readonly dropout: Dropout;

  constructor(
    config: EncoderConfig,
    readonly numLabels: number,
  ) {
    super();
    if (!Number.isInteger(numLabels) || numLabels < 1) {
      throw new TransformerError(
        'invalid_config',
        `EncoderForSequenceClassification: numLabels must be an integer >= 1, got ${numLabels}`,
      );
    }
    this.bert = this.addModule('bert', new Encoder({ ...config, pooler: true }));
    this.dropout = this.addModule('dropout', new Dropout(this.bert.config.dropout));
    this.classifier = this.addModule('classifier', new Linear(this.bert.config.nEmbd, numLabels));
  }

  /** Class logits `[B, numLabels]`, and the loss against `labels` (one class id per row). */
  forward(
    inputIds: Parameters<Encoder['forward']>[0],
    options: EncoderForwardOptions & { labels?: readonly number[] } = {},
  ): HeadOutput {
    const { lastHiddenState, pooledOutput, attentions } = this.bert.forward(inputIds, options);
    lastHiddenState.dispose();
    return tidy(() => {
      const logits = this.classifier.forward(this.dropout.forward(pooledOutput!));
      const out: HeadOutput = { logits };
      if (options.labels) {
        const labels = options.labels;
        if (
          labels.length !== logits.shape[0] ||
          labels.some((l) => !Number.isInteger(l) || l < 0 || l >= this.numLabels)
        ) {
          throw new TransformerError(
            'invalid_data',
            `labels must be ${logits.shape[0]} class ids in [0, ${this.numLabels}), got [${labels}]`,
          );
        }
        const target = fromValues(Int32Array.from(labels), [labels.length], {
          dtype: 'int32',
          backend: logits.backend.name,
        });
        out.loss = crossEntropy(logits, target);
      }
      if (attentions) out.attentions = attentions;
      return out;
    });
  }
}

/**
 * Sentence embeddings: the mean of the encoder's token vectors over real (unpadded) tokens,
 * optionally scaled to unit length (for cosine similarity). `[B, nEmbd]`.
 *
 * @example
 * ```ts
 * const vectors = meanPooledEmbeddings(encoder, [[5, 6, 7], [8, 9, 0]], { attentionMask: [[1, 1, 1], [1, 1, 0]], normalize: true });
 * ```
 */
export function meanPooledEmbeddings(
  encoder: Encoder,
  inputIds: Parameters<Encoder['forward']>[0],
  options: EncoderForwardOptions & { normalize?: boolean } = {},
): Tensor {
  const { lastHiddenState, pooledOutput, mask } = encoder.forward(inputIds, options);
  pooledOutput?.dispose();
  return tidy(() => {
    const [B, T] = lastHiddenState.shape;
    const weights = fromValues(Float32Array.from(mask.flat()), [B, T, 1], {
      backend: lastHiddenState.backend.name,
    });
    const summed = sum(mul(lastHiddenState, weights), 1); // (B, C)
    lastHiddenState.dispose();
    let pooled = div(summed, sum(weights, 1)); // divide by the number of real tokens
    if (options.normalize)
      pooled = div(pooled, clamp(sqrt(sum(mul(pooled, pooled), 1, { keepDim: true })), 1e-12));
    return reshape(pooled, [B, -1]);
  });
}
