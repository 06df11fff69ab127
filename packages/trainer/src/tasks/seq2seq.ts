// Sequence-to-sequence with an encoder-decoder: padded source/target batches for teacher forcing,
// the decoder's cross-entropy, and exact match by greedy generation.
import type { Module, Tensor } from '@llmkit/core-tensor';
import { IGNORE_INDEX } from '../data/examples.js';
import type { Split, TrainingData } from '../data/source.js';
import { TrainerError } from '../errors.js';
import { EpochOrder, type EpochState, positiveInteger } from './epochs.js';

/** One source/target pair of token ids. */
export interface Seq2SeqExample {
  /** Source ids (at least one). */
  sourceIds: number[];
  /** Target ids, without start or end tokens. */
  targetIds: number[];
}

/** A padded teacher-forcing batch. */
export interface Seq2SeqBatch {
  /** Source ids per row, right-padded. */
  sourceIds: number[][];
  /** 1 for real source tokens, 0 for padding. */
  sourceMask: number[][];
  /** `[start, ...target]` per row, right-padded: what the decoder reads. */
  decoderInputIds: number[][];
  /** 1 for real decoder inputs, 0 for padding. */
  decoderAttentionMask: number[][];
  /** `[...target, eos]` per row, IGNORE_INDEX on padding: what the decoder must produce. */
  labels: number[][];
}

/** Special ids a seq2seq batch needs. */
export interface Seq2SeqTokens {
  /** Id of padding (masked out of attention and loss). */
  padTokenId: number;
  /** The token the decoder starts from. */
  decoderStartTokenId: number;
  /** The token that ends every target. */
  eosTokenId: number;
}

/**
 * A model with llmkit's `EncoderDecoder` shape: a teacher-forced forward pass with a loss, and
 * generation.
 */
export interface Seq2SeqModel extends Module {
  /** Logits for each decoder position, and the loss against `labels` (IGNORE_INDEX ignored). */
  forward(
    sourceIds: number[][],
    decoderInputIds: number[][],
    options: {
      sourceMask?: number[][];
      decoderAttentionMask?: number[][];
      labels?: readonly (readonly number[])[];
    },
  ): { logits: Tensor; loss?: Tensor };
  /** The start token plus generated tokens for each source row. */
  generate(
    sourceIds: readonly (readonly number[])[],
    options: {
      decoderStartTokenId: number;
      eosTokenId?: number;
      maxNewTokens?: number;
      padTokenId?: number;
    },
  ): Promise<number[][]>;
}

/**
 * Pads pairs for teacher forcing: the decoder reads `[start, ...target]` and must produce
 * `[...target, eos]`, one position ahead.
 *
 * @example
 * ```ts
 * padSeq2SeqBatch([{ sourceIds: [5, 6], targetIds: [7] }], { padTokenId: 0, decoderStartTokenId: 1, eosTokenId: 2 });
 * // decoderInputIds [[1, 7]], labels [[7, 2]]
 * ```
 */
export function padSeq2SeqBatch(
  examples: readonly Seq2SeqExample[],
  tokens: Seq2SeqTokens,
): Seq2SeqBatch {
  if (examples.length === 0)
    throw new TrainerError('invalid_data', 'padSeq2SeqBatch: got no examples');
  for (const [i, e] of examples.entries())
    if (e.sourceIds.length === 0)
      throw new TrainerError('invalid_data', `padSeq2SeqBatch: example ${i} has an empty source`);
  const S = Math.max(...examples.map((e) => e.sourceIds.length));
  const T = Math.max(...examples.map((e) => e.targetIds.length)) + 1;
  const pad = (row: number[], length: number, value: number) => [
    ...row,
    ...new Array(length - row.length).fill(value),
  ];
  const ones = (n: number) => new Array(n).fill(1);
  return {
    sourceIds: examples.map((e) => pad(e.sourceIds, S, tokens.padTokenId)),
    sourceMask: examples.map((e) => pad(ones(e.sourceIds.length), S, 0)),
    decoderInputIds: examples.map((e) =>
      pad([tokens.decoderStartTokenId, ...e.targetIds], T, tokens.padTokenId),
    ),
    decoderAttentionMask: examples.map((e) => pad(ones(e.targetIds.length + 1), T, 0)),
    labels: examples.map((e) => pad([...e.targetIds, tokens.eosTokenId], T, IGNORE_INDEX)),
  };
}

/**
 * Shuffled, padded teacher-forcing batches of source/target pairs (one seeded shuffle per epoch,
 * resumable).
 *
 * @example
 * ```ts
 * const data = new Seq2SeqBatches({ train, validation }, { batchSize: 32, padTokenId: 0, decoderStartTokenId: 1, eosTokenId: 2 });
 * const trainer = new Trainer({ model, loss: seq2seqLoss, data, config: { maxSteps: 1000 } });
 * ```
 */
export class Seq2SeqBatches implements TrainingData<Seq2SeqBatch> {
  private readonly order: EpochOrder;

  constructor(
    private readonly examples: Record<Split, readonly Seq2SeqExample[]>,
    private readonly options: Seq2SeqTokens & { batchSize: number; seed?: number },
  ) {
    positiveInteger('Seq2SeqBatches', 'batchSize', options.batchSize);
    this.order = new EpochOrder(
      { train: examples.train.length, validation: examples.validation.length },
      options.seed ?? 1337,
      'Seq2SeqBatches',
    );
  }

  next(split: Split): Seq2SeqBatch {
    const rows: Seq2SeqExample[] = [];
    for (let i = 0; i < this.options.batchSize; i++)
      rows.push(this.examples[split][this.order.take(split)]);
    return padSeq2SeqBatch(rows, this.options);
  }

  state(): EpochState {
    return this.order.state();
  }

  restore(state: unknown): void {
    this.order.restore(state);
  }
}

/**
 * Teacher-forced cross-entropy of the decoder, mean over the target tokens (end token included,
 * padding excluded).
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model: encoderDecoder, loss: seq2seqLoss, data, config: { maxSteps: 1000 } });
 * ```
 */
export function seq2seqLoss(model: Module, batch: Seq2SeqBatch): Tensor {
  const { logits, loss } = (model as Seq2SeqModel).forward(batch.sourceIds, batch.decoderInputIds, {
    sourceMask: batch.sourceMask,
    decoderAttentionMask: batch.decoderAttentionMask,
    labels: batch.labels,
  });
  if (!loss)
    throw new TrainerError(
      'invalid_data',
      'seq2seqLoss: the model returned no loss for the labels',
    );
  logits.dispose();
  return loss;
}

/** What {@link seq2seqExactMatch} measures. */
export interface ExactMatchEvaluation {
  /** `correct / count`. */
  exactMatch: number;
  /** Examples whose generated target equals the reference token for token. */
  correct: number;
  /** Examples evaluated. */
  count: number;
  /** The generated target of each example (start and end tokens removed). */
  predictions: number[][];
}

/**
 * Greedy generation for every example, compared with its target token for token (the generated
 * sequence is cut at the first end token). Runs in evaluation mode.
 *
 * @example
 * ```ts
 * const { exactMatch } = await seq2seqExactMatch(model, heldOut, { padTokenId: 0, decoderStartTokenId: 1, eosTokenId: 2 });
 * ```
 */
export async function seq2seqExactMatch(
  model: Module,
  examples: readonly Seq2SeqExample[],
  options: Seq2SeqTokens & { batchSize?: number; maxNewTokens?: number },
): Promise<ExactMatchEvaluation> {
  if (examples.length === 0)
    throw new TrainerError('invalid_data', 'seq2seqExactMatch: got no examples');
  const batchSize = positiveInteger('seq2seqExactMatch', 'batchSize', options.batchSize ?? 64);
  const maxNewTokens =
    options.maxNewTokens ?? Math.max(...examples.map((e) => e.targetIds.length)) + 1;
  const wasTraining = model.training;
  model.eval();
  const predictions: number[][] = [];
  try {
    for (let start = 0; start < examples.length; start += batchSize) {
      const rows = examples.slice(start, start + batchSize).map((e) => e.sourceIds);
      const generated = await (model as Seq2SeqModel).generate(rows, {
        decoderStartTokenId: options.decoderStartTokenId,
        eosTokenId: options.eosTokenId,
        padTokenId: options.padTokenId,
        maxNewTokens,
      });
      for (const sequence of generated) {
        const body = sequence.slice(1);
        const end = body.indexOf(options.eosTokenId);
        predictions.push(end < 0 ? body : body.slice(0, end));
      }
    }
  } finally {
    model.train(wasTraining);
  }
  const correct = predictions.filter((p, i) => {
    const target = examples[i].targetIds;
    return p.length === target.length && p.every((id, j) => id === target[j]);
  }).length;
  return { exactMatch: correct / examples.length, correct, count: examples.length, predictions };
}
