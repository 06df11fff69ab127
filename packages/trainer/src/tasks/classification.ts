// Sequence classification with an encoder: labelled token sequences, padded batches with attention
// masks, the cross-entropy loss of the classifier head, and accuracy.
import { type Module, noGrad, type Tensor, tidy } from '@llmkit/core-tensor';
import type { Split, TrainingData } from '../data/source.js';
import { TrainerError } from '../errors.js';
import { EpochOrder, type EpochState, positiveInteger } from './epochs.js';

/** One labelled sequence: token ids and a class id. */
export interface LabelledSequence {
  /** Token ids (at least one). */
  ids: number[];
  /** Class id in `[0, numLabels)`. */
  label: number;
}

/** A padded batch for a sequence classifier. */
export interface ClassificationBatch {
  /** Token ids per row, right-padded to one length. */
  inputIds: number[][];
  /** 1 for real tokens, 0 for padding, per row. */
  attentionMask: number[][];
  /** One class id per row. */
  labels: number[];
}

/**
 * A model that maps padded ids to class logits `[B, numLabels]` and, given labels, a mean
 * cross-entropy loss: llmkit's `EncoderForSequenceClassification` has this shape.
 */
export interface SequenceClassifier extends Module {
  /** Class logits, and the loss when `labels` are given. */
  forward(
    inputIds: number[][],
    options: { attentionMask?: number[][]; labels?: readonly number[] },
  ): { logits: Tensor; loss?: Tensor };
}

/** Options of {@link padClassificationBatch}. */
export interface ClassificationPadding {
  /** Id written into padded positions (they are masked out). */
  padTokenId: number;
  /** Longest row kept; longer sequences are cut at the end (the model's blockSize). */
  maxLength?: number;
}

/** Pads labelled sequences to the longest (at most `maxLength`) with an attention mask. */
export function padClassificationBatch(
  examples: readonly LabelledSequence[],
  options: ClassificationPadding,
): ClassificationBatch {
  if (examples.length === 0)
    throw new TrainerError('invalid_data', 'padClassificationBatch: got no examples');
  const longest = Math.max(...examples.map((e) => e.ids.length));
  const length = Math.min(longest, options.maxLength ?? longest);
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  for (const [i, e] of examples.entries()) {
    if (e.ids.length === 0 || !Number.isInteger(e.label) || e.label < 0)
      throw new TrainerError(
        'invalid_data',
        `padClassificationBatch: example ${i} has ${e.ids.length} ids and label ${e.label}; expected at least one id and a class id >= 0`,
      );
    const ids = e.ids.slice(0, length);
    inputIds.push([...ids, ...new Array(length - ids.length).fill(options.padTokenId)]);
    attentionMask.push([...ids.map(() => 1), ...new Array(length - ids.length).fill(0)]);
  }
  return { inputIds, attentionMask, labels: examples.map((e) => e.label) };
}

/**
 * Shuffled, padded batches of labelled sequences (one seeded shuffle per epoch, resumable).
 *
 * @example
 * ```ts
 * const data = new LabelledSequences({ train, validation }, { batchSize: 32, padTokenId: 0, maxLength: 128 });
 * const trainer = new Trainer({ model: classifier, loss: sequenceClassificationLoss, metrics: classificationAccuracy, data, config: { maxSteps: 500 } });
 * ```
 */
export class LabelledSequences implements TrainingData<ClassificationBatch> {
  private readonly order: EpochOrder;

  constructor(
    private readonly examples: Record<Split, readonly LabelledSequence[]>,
    private readonly options: ClassificationPadding & { batchSize: number; seed?: number },
  ) {
    positiveInteger('LabelledSequences', 'batchSize', options.batchSize);
    this.order = new EpochOrder(
      { train: examples.train.length, validation: examples.validation.length },
      options.seed ?? 1337,
      'LabelledSequences',
    );
  }

  next(split: Split): ClassificationBatch {
    const rows: LabelledSequence[] = [];
    for (let i = 0; i < this.options.batchSize; i++)
      rows.push(this.examples[split][this.order.take(split)]);
    return padClassificationBatch(rows, this.options);
  }

  state(): EpochState {
    return this.order.state();
  }

  restore(state: unknown): void {
    this.order.restore(state);
  }
}

/**
 * The classifier's mean cross-entropy over the batch's rows.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model: classifier, loss: sequenceClassificationLoss, data, config: { maxSteps: 300 } });
 * ```
 */
export function sequenceClassificationLoss(model: Module, batch: ClassificationBatch): Tensor {
  const { logits, loss } = (model as SequenceClassifier).forward(batch.inputIds, {
    attentionMask: batch.attentionMask,
    labels: batch.labels,
  });
  if (!loss)
    throw new TrainerError(
      'invalid_data',
      'sequenceClassificationLoss: the model returned no loss for the labels',
    );
  logits.dispose();
  return loss;
}

/** Row-wise argmax of logits `[B, C]`. */
async function predictions(logits: Tensor): Promise<number[]> {
  const [B, C] = logits.shape;
  const values = await logits.data<Float32Array>();
  return Array.from({ length: B }, (_, b) => {
    let best = 0;
    for (let c = 1; c < C; c++) if (values[b * C + c] > values[b * C + best]) best = c;
    return best;
  });
}

/**
 * Evaluation metrics of a classification batch: `{ correct, count }` (the Trainer sums them over
 * the evaluation batches; accuracy is `correct / count`).
 */
export async function classificationAccuracy(
  model: Module,
  batch: ClassificationBatch,
): Promise<{ correct: number; count: number }> {
  const logits = noGrad(() =>
    tidy(
      () =>
        (model as SequenceClassifier).forward(batch.inputIds, {
          attentionMask: batch.attentionMask,
        }).logits,
    ),
  );
  const predicted = await predictions(logits);
  logits.dispose();
  const correct = predicted.filter((p, i) => p === batch.labels[i]).length;
  return { correct, count: batch.labels.length };
}

/** What {@link evaluateClassifier} measures. */
export interface ClassificationEvaluation {
  /** Mean cross-entropy per example. */
  loss: number;
  /** `correct / count`. */
  accuracy: number;
  /** Examples classified correctly. */
  correct: number;
  /** Examples evaluated. */
  count: number;
  /** The predicted class of each example, in order. */
  predictions: number[];
}

/**
 * Loss and accuracy over every example once, in order, in evaluation mode and without gradients
 * (the figure to report for a held-out split).
 *
 * @example
 * ```ts
 * const { accuracy } = await evaluateClassifier(classifier, heldOut, { batchSize: 64, padTokenId: 0 });
 * ```
 */
export async function evaluateClassifier(
  model: Module,
  examples: readonly LabelledSequence[],
  options: ClassificationPadding & { batchSize?: number },
): Promise<ClassificationEvaluation> {
  const batchSize = positiveInteger('evaluateClassifier', 'batchSize', options.batchSize ?? 32);
  if (examples.length === 0)
    throw new TrainerError('invalid_data', 'evaluateClassifier: got no examples');
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0;
  const predicted: number[] = [];
  try {
    for (let start = 0; start < examples.length; start += batchSize) {
      const batch = padClassificationBatch(examples.slice(start, start + batchSize), options);
      const { logits, loss } = noGrad(() =>
        tidy(() =>
          (model as SequenceClassifier).forward(batch.inputIds, {
            attentionMask: batch.attentionMask,
            labels: batch.labels,
          }),
        ),
      );
      lossSum += (await loss!.data())[0] * batch.labels.length;
      loss!.dispose();
      predicted.push(...(await predictions(logits)));
      logits.dispose();
    }
  } finally {
    model.train(wasTraining);
  }
  const correct = predicted.filter((p, i) => p === examples[i].label).length;
  return {
    loss: lossSum / examples.length,
    accuracy: correct / examples.length,
    correct,
    count: examples.length,
    predictions: predicted,
  };
}

/** One line of a labelled text file. */
export interface LabelledText {
  /** The sentence. */
  text: string;
  /** Its class id. */
  label: number;
}

/**
 * Reads `sentence<TAB>label` lines (label a non-negative integer; blank lines skipped), the format
 * of the UCI sentiment sentences. `source` names the file in errors.
 *
 * @example
 * ```ts
 * parseLabelledLines('Great phone.\t1\nBroke in a day.\t0\n'); // [{ text: 'Great phone.', label: 1 }, ...]
 * ```
 */
export function parseLabelledLines(text: string, source = 'input'): LabelledText[] {
  const out: LabelledText[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    if (raw.trim() === '') continue;
    const tab = raw.lastIndexOf('\t');
    const label = Number(raw.slice(tab + 1).trim());
    const sentence = raw.slice(0, tab).trim();
    if (tab < 0 || !Number.isInteger(label) || label < 0 || sentence === '') {
      throw new TrainerError(
        'invalid_data',
        `${source} line ${i + 1}: expected "sentence<TAB>label" with a class id >= 0, got ${JSON.stringify(raw.slice(0, 80))}`,
      );
    }
    out.push({ text: sentence, label });
  }
  return out;
}
