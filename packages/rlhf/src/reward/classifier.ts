// A small text classifier to serve as a reward model (the course material's "classifier that
// scores outputs"), and how to train, evaluate, save and load it.
//  - MeanPooledClassifier: @llmkit/transformer's Encoder (no pooler) with the mean of its token
//    vectors over real tokens (Reimers and Gurevych, 2019), dropout and a Linear to the labels.
//    Mean pooling suits a classifier trained from scratch on a few thousand sentences better than
//    BERT's first-token pooler: every token's vector gets a gradient, and the score of a text is
//    roughly the average of its words' evidence, which also holds for text unlike the training
//    sentences (a language model's samples).
//  - trainClassifier: epochs of shuffled minibatches with cross-entropy, AdamW with a linear decay
//    of the learning rate, token dropout (training tokens replaced by [UNK] with a probability, so
//    the model learns to read past words it does not know), and the held-out accuracy per epoch.
//  - saveClassifier / loadClassifier (classifier-files.ts) write and read it.
// Use it as a reward with classifierReward({ model, tokenizer: vocabulary, positiveLabel }).
import {
  AdamW,
  crossEntropy,
  Dropout,
  fromValues,
  Generator,
  Linear,
  Module,
  noGrad,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import { Encoder, type EncoderConfig, meanPooledEmbeddings } from '@llmkit/transformer';
import { RlhfError } from '../errors.js';
import { checkCounts } from '../run.js';
import type { TextTokenizer } from '../sequences.js';
import { PAD_ID, UNKNOWN_ID } from './vocabulary.js';

/** Configuration of a {@link MeanPooledClassifier}: the encoder's, plus the number of labels. */
export interface ClassifierConfig extends Omit<EncoderConfig, 'pooler'> {
  /** Number of classes (2 for negative / positive sentiment). */
  numLabels: number;
}

/** A text and its class id. */
export interface LabelledText {
  /** The text to classify. */
  text: string;
  /** Its class id in `[0, numLabels)`. */
  label: number;
}

/**
 * An Encoder classifier over mean-pooled token vectors: logits `[B, numLabels]`.
 *
 * @example
 * ```ts
 * const model = new MeanPooledClassifier({ vocabSize: vocabulary.vocabSize, blockSize: 64, nLayer: 1, nHead: 4, nEmbd: 64, dropout: 0.1, numLabels: 2 });
 * const { logits } = model.forward([[5, 6, 7]]); // [1, 2]
 * ```
 */
export class MeanPooledClassifier extends Module {
  /** The encoder (BERT-style, without the first-token pooler). */
  readonly encoder: Encoder;
  /** `[numLabels, nEmbd]`: the pooled vector to class logits. */
  readonly classifier: Linear;
  /** The configuration it was built with (`blockSize` bounds the tokens read). */
  readonly config: ClassifierConfig & { blockSize: number };
  private readonly dropout: Dropout;

  constructor(config: ClassifierConfig) {
    super();
    const { numLabels, ...encoder } = config;
    if (!Number.isInteger(numLabels) || numLabels < 1)
      throw new RlhfError(
        'invalid_config',
        `MeanPooledClassifier: numLabels must be an integer >= 1, got ${numLabels}`,
      );
    this.encoder = this.addModule('encoder', new Encoder({ ...encoder, pooler: false }));
    this.config = { ...config };
    this.dropout = this.addModule('dropout', new Dropout(this.encoder.config.dropout));
    this.classifier = this.addModule(
      'classifier',
      new Linear(this.encoder.config.nEmbd, numLabels),
    );
  }

  /** Class logits `[B, numLabels]` of padded ids, and the cross-entropy against `labels`. */
  forward(
    inputIds: readonly (readonly number[])[],
    options: {
      attentionMask?: readonly (readonly number[])[];
      labels?: readonly number[];
    } = {},
  ): { logits: Tensor; loss?: Tensor } {
    const pooled = meanPooledEmbeddings(this.encoder, inputIds, {
      ...(options.attentionMask ? { attentionMask: options.attentionMask } : {}),
    }); // (B, nEmbd)
    return tidy(() => {
      const logits = this.classifier.forward(this.dropout.forward(pooled));
      pooled.dispose();
      if (!options.labels) return { logits };
      const { labels } = options;
      const numLabels = this.config.numLabels;
      if (labels.length !== logits.shape[0])
        throw new RlhfError(
          'invalid_data',
          `MeanPooledClassifier: ${labels.length} labels for ${logits.shape[0]} rows`,
        );
      for (const [i, label] of labels.entries())
        if (!Number.isInteger(label) || label < 0 || label >= numLabels)
          throw new RlhfError(
            'invalid_data',
            `MeanPooledClassifier: label ${i} is ${label}; expected a class id in [0, ${numLabels})`,
          );
      const target = fromValues(Int32Array.from(labels), [labels.length], {
        dtype: 'int32',
        backend: logits.backend.name,
      });
      return { logits, loss: crossEntropy(logits, target) };
    });
  }
}

/** Right-padded ids and the mask of rows (truncated to `maxLength`). */
function padded(
  rows: readonly (readonly number[])[],
  maxLength: number,
): { inputIds: number[][]; attentionMask: number[][] } {
  const cut = rows.map((row) => (row.length === 0 ? [UNKNOWN_ID] : row.slice(0, maxLength)));
  const T = Math.max(...cut.map((row) => row.length));
  return {
    inputIds: cut.map((row) => [...row, ...new Array<number>(T - row.length).fill(PAD_ID)]),
    attentionMask: cut.map((row) => [
      ...new Array<number>(row.length).fill(1),
      ...new Array<number>(T - row.length).fill(0),
    ]),
  };
}

/** Checks texts and labels before any work; errors name the example. */
function checkExamples(where: string, examples: readonly LabelledText[], numLabels: number): void {
  if (examples.length === 0) throw new RlhfError('invalid_data', `${where}: no examples`);
  for (const [i, example] of examples.entries()) {
    if (typeof example?.text !== 'string' || example.text.length === 0)
      throw new RlhfError(
        'invalid_data',
        `${where}: example ${i}: text is ${JSON.stringify(example?.text)}; expected a non-empty string`,
      );
    if (!Number.isInteger(example.label) || example.label < 0 || example.label >= numLabels)
      throw new RlhfError(
        'invalid_data',
        `${where}: example ${i}: label is ${example.label}; expected a class id in [0, ${numLabels})`,
      );
  }
}

/**
 * The share of `examples` whose most likely class is their label (the model in eval mode).
 *
 * @example
 * ```ts
 * classifierAccuracy(model, vocabulary, heldOut); // 0.78
 * ```
 */
export function classifierAccuracy(
  model: MeanPooledClassifier,
  tokenizer: TextTokenizer,
  examples: readonly LabelledText[],
  batchSize = 64,
): number {
  checkExamples('classifierAccuracy', examples, model.config.numLabels);
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  try {
    for (let start = 0; start < examples.length; start += batchSize) {
      const batch = examples.slice(start, start + batchSize);
      const { inputIds, attentionMask } = padded(
        batch.map((e) => tokenizer.encode(e.text)),
        model.config.blockSize,
      );
      const logits = tidy(() =>
        noGrad(() =>
          Float32Array.from(
            model.forward(inputIds, { attentionMask }).logits.dataSync() as Float32Array,
          ),
        ),
      );
      const L = model.config.numLabels;
      for (const [i, example] of batch.entries()) {
        let best = 0;
        for (let k = 1; k < L; k++) if (logits[i * L + k] > logits[i * L + best]) best = k;
        if (best === example.label) correct++;
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return correct / examples.length;
}

/** Options of {@link trainClassifier}. */
export interface ClassifierTrainerOptions {
  /** The classifier to train. */
  model: MeanPooledClassifier;
  /** Its tokenizer (a {@link CompactVocabulary} over the texts, typically). */
  tokenizer: TextTokenizer;
  /** Training examples. */
  examples: readonly LabelledText[];
  /** Held-out examples: accuracy after each epoch. */
  evalExamples?: readonly LabelledText[];
  /** Passes over the examples (default 20). */
  epochs?: number;
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Peak learning rate, decayed linearly to a tenth over the run (default 1e-3). */
  lr?: number;
  /** AdamW weight decay (default 0.01). */
  weightDecay?: number;
  /** Probability of replacing a training token by [UNK] (default 0.1). */
  tokenDropout?: number;
  /** Seed of the shuffling and the token dropout (default 0). */
  seed?: number;
  /** Called after each epoch with its mean loss and held-out accuracy. */
  onEpoch?: (metrics: ClassifierEpochMetrics) => void;
}

/** What {@link trainClassifier} reports per epoch. */
export interface ClassifierEpochMetrics {
  /** Epochs completed, 1 after the first. */
  epoch: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Held-out accuracy after the epoch (null without `evalExamples`). */
  evalAccuracy: number | null;
  /** Milliseconds the epoch took. */
  ms: number;
}

/**
 * Trains a {@link MeanPooledClassifier} with cross-entropy; returns the per-epoch history and the
 * final held-out accuracy. The model is left in eval mode.
 *
 * @example
 * ```ts
 * const vocabulary = CompactVocabulary.fromTexts(getEncoding('gpt2'), train.map((e) => e.text));
 * const model = new MeanPooledClassifier({ vocabSize: vocabulary.vocabSize, blockSize: 64, nLayer: 1, nHead: 4, nEmbd: 64, dropout: 0.1, numLabels: 2 });
 * const { evalAccuracy } = await trainClassifier({ model, tokenizer: vocabulary, examples: train, evalExamples: heldOut });
 * ```
 */
export async function trainClassifier(options: ClassifierTrainerOptions): Promise<{
  history: ClassifierEpochMetrics[];
  evalAccuracy: number | null;
}> {
  const { model, tokenizer, examples } = options;
  const { epochs = 20, batchSize = 32, lr = 1e-3, weightDecay = 0.01, seed = 0 } = options;
  const tokenDropout = options.tokenDropout ?? 0.1;
  checkCounts('trainClassifier', { epochs, batchSize });
  if (!(tokenDropout >= 0 && tokenDropout < 1))
    throw new RlhfError(
      'invalid_config',
      `trainClassifier: tokenDropout must be in [0, 1), got ${tokenDropout}`,
    );
  checkExamples('trainClassifier', examples, model.config.numLabels);
  if (options.evalExamples?.length)
    checkExamples('trainClassifier (evalExamples)', options.evalExamples, model.config.numLabels);
  const encoded = examples.map((e) => tokenizer.encode(e.text));
  const optimizer = new AdamW(model.parameters(), { lr, weightDecay });
  const random = new Generator(seed);
  const stepsPerEpoch = Math.ceil(examples.length / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  const history: ClassifierEpochMetrics[] = [];
  let evalAccuracy: number | null = null;
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const started = performance.now();
    model.train();
    const order = Array.from({ length: examples.length }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.nextInt(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const rows = order.slice(start, start + batchSize);
      const ids = rows.map((r) =>
        encoded[r].map((id) => (random.nextFloat() < tokenDropout ? UNKNOWN_ID : id)),
      );
      const { inputIds, attentionMask } = padded(ids, model.config.blockSize);
      for (const group of optimizer.paramGroups)
        group.options.lr = lr * (1 - (0.9 * step) / Math.max(1, totalSteps - 1));
      lossSum += tidy(() => {
        const { loss } = model.forward(inputIds, {
          attentionMask,
          labels: rows.map((r) => examples[r].label),
        });
        const value = loss!.item();
        if (!Number.isFinite(value))
          throw new RlhfError(
            'invalid_data',
            `trainClassifier: epoch ${epoch + 1}: the loss is ${value}; no update was made`,
          );
        model.zeroGrad();
        loss!.backward();
        optimizer.step();
        model.zeroGrad();
        return value * rows.length;
      });
      step++;
    }
    if (options.evalExamples?.length)
      evalAccuracy = classifierAccuracy(model, tokenizer, options.evalExamples);
    const metrics: ClassifierEpochMetrics = {
      epoch: epoch + 1,
      loss: lossSum / examples.length,
      evalAccuracy,
      ms: performance.now() - started,
    };
    history.push(metrics);
    options.onEpoch?.(metrics);
    await Promise.resolve(); // let an event loop turn pass between epochs
  }
  model.eval();
  return { history, evalAccuracy };
}
