import { Generator } from '@llmkit/core-tensor';
import { TrainerError } from '../errors.js';
import type { Split, TrainingData } from './source.js';
import type { LanguageModelBatch } from './token-windows.js';

/** PyTorch's and Hugging Face's `ignore_index`: targets with this id add nothing to the loss. */
export const IGNORE_INDEX = -100;

/** One supervised sequence: its ids and, per id, the label to predict there (or IGNORE_INDEX). */
export interface SupervisedExample {
  /** Token ids of the whole sequence (prompt and response). */
  inputIds: number[];
  /** Same length as `inputIds`: the id each position must produce, IGNORE_INDEX where masked. */
  labels: number[];
}

/** A padded batch of supervised sequences. */
export interface SupervisedBatch extends LanguageModelBatch {
  /** 1 for real tokens, 0 for padding, `[batchSize * blockSize]`. */
  attentionMask: Int32Array;
}

/**
 * Builds an instruction-tuning example: the loss covers only the response (and the end token),
 * never the prompt, so the model learns to answer rather than to repeat instructions.
 *
 * @example
 * ```ts
 * instructionExample([1, 2, 3], [7, 8], { eosTokenId: 0 });
 * // { inputIds: [1, 2, 3, 7, 8, 0], labels: [-100, -100, -100, 7, 8, 0] }
 * ```
 */
export function instructionExample(
  promptIds: readonly number[],
  responseIds: readonly number[],
  options: { eosTokenId?: number } = {},
): SupervisedExample {
  const response =
    options.eosTokenId === undefined ? [...responseIds] : [...responseIds, options.eosTokenId];
  return {
    inputIds: [...promptIds, ...response],
    labels: [...promptIds.map(() => IGNORE_INDEX), ...response],
  };
}

/**
 * Pads examples to one length for next-token prediction: `inputs` are ids `[0, L-1)`, targets
 * the labels `[1, L)` (shifted here, as Hugging Face shifts inside its models), padding gets
 * `padTokenId` in inputs, IGNORE_INDEX in targets and 0 in the attention mask. Sequences longer
 * than `maxLength + 1` are cut at the end.
 */
export function padBatch(
  examples: readonly SupervisedExample[],
  options: { padTokenId: number; maxLength?: number },
): SupervisedBatch {
  if (examples.length === 0) throw new TrainerError('invalid_data', 'padBatch: got no examples');
  for (const [i, e] of examples.entries()) {
    if (e.inputIds.length !== e.labels.length || e.inputIds.length < 2) {
      throw new TrainerError(
        'invalid_data',
        `padBatch: example ${i} has ${e.inputIds.length} ids and ${e.labels.length} labels; expected equal lengths of at least 2`,
      );
    }
  }
  const longest = Math.max(...examples.map((e) => e.inputIds.length - 1));
  const T = Math.min(longest, options.maxLength ?? longest);
  const B = examples.length;
  const inputs = new Int32Array(B * T).fill(options.padTokenId);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  const attentionMask = new Int32Array(B * T);
  examples.forEach((e, b) => {
    const length = Math.min(e.inputIds.length - 1, T);
    for (let t = 0; t < length; t++) {
      inputs[b * T + t] = e.inputIds[t];
      targets[b * T + t] = e.labels[t + 1];
      attentionMask[b * T + t] = 1;
    }
  });
  return { inputs, targets, attentionMask, batchSize: B, blockSize: T };
}

/** Position of an {@link ExampleBatches} source: its seed and examples consumed per split. */
export interface ExampleBatchesState {
  /** The shuffle seed. */
  seed: number;
  /** Examples taken from each split so far. */
  consumed: Record<Split, number>;
}

/**
 * Shuffled, padded batches of supervised examples, one shuffle per epoch from a seeded
 * generator; `state()` is how many examples each split has consumed, which is enough to
 * rebuild the exact order on resume.
 *
 * @example
 * ```ts
 * const data = new ExampleBatches({ train: trainExamples, validation: heldOut }, { batchSize: 8, padTokenId: 0 });
 * const batch = data.next('train'); // inputs, targets, attentionMask
 * ```
 */
export class ExampleBatches implements TrainingData<SupervisedBatch> {
  private readonly generators: Record<Split, Generator>;
  private readonly orders: Record<Split, number[]> = { train: [], validation: [] };
  private consumed: Record<Split, number> = { train: 0, validation: 0 };

  constructor(
    private readonly examples: Record<Split, readonly SupervisedExample[]>,
    private readonly options: {
      batchSize: number;
      padTokenId: number;
      maxLength?: number;
      seed?: number;
    },
  ) {
    for (const split of ['train', 'validation'] as const) {
      if (examples[split].length === 0)
        throw new TrainerError('invalid_data', `ExampleBatches: the ${split} split is empty`);
    }
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new TrainerError(
        'invalid_config',
        `ExampleBatches: batchSize must be a positive integer, got ${options.batchSize}`,
      );
    }
    const seed = options.seed ?? 1337;
    this.generators = { train: new Generator(seed), validation: new Generator(seed + 1) };
  }

  private take(split: Split): SupervisedExample {
    const order = this.orders[split];
    const count = this.examples[split].length;
    if (this.consumed[split] % count === 0) {
      // a new epoch: Fisher-Yates shuffle from this split's generator
      order.length = 0;
      for (let i = 0; i < count; i++) order.push(i);
      for (let i = count - 1; i > 0; i--) {
        const j = this.generators[split].nextInt(0, i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    return this.examples[split][order[this.consumed[split]++ % count]];
  }

  next(split: Split): SupervisedBatch {
    const batch: SupervisedExample[] = [];
    for (let i = 0; i < this.options.batchSize; i++) batch.push(this.take(split));
    return padBatch(batch, this.options);
  }

  state(): ExampleBatchesState {
    return { seed: this.options.seed ?? 1337, consumed: { ...this.consumed } };
  }

  restore(state: unknown): void {
    const { consumed } = state as ExampleBatchesState;
    const seed = this.options.seed ?? 1337;
    this.generators.train = new Generator(seed);
    this.generators.validation = new Generator(seed + 1);
    this.consumed = { train: 0, validation: 0 };
    for (const split of ['train', 'validation'] as const) {
      for (let i = 0; i < consumed[split]; i++) this.take(split);
    }
  }
}
