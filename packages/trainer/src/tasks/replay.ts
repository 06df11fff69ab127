// Replay against catastrophic forgetting: while fine-tuning on a new task, a fixed fraction of the
// training batches comes from the original data.
import type { Split, TrainingData } from '../data/source.js';
import { TrainerError } from '../errors.js';

/** Options of {@link ReplayData}. */
export interface ReplayOptions {
  /** Fraction of training batches drawn from the original data, in `[0, 1)`. */
  fraction: number;
  /** Where validation batches come from: the new task (default), the original, or mixed alike. */
  validation?: 'new' | 'original' | 'mixed';
}

/** Position of a {@link ReplayData} source: its batch counters and both sources' positions. */
export interface ReplayState {
  /** Training batches drawn so far. */
  trainBatches: number;
  /** Validation batches drawn so far. */
  validationBatches: number;
  /** The new data's state. */
  new: unknown;
  /** The original data's state. */
  original: unknown;
}

/**
 * Mixes a fraction of batches from the original data into fine-tuning on new data. The mix is
 * exact and deterministic: batch `i` (counting from 0) is a replayed one exactly when
 * `floor((i + 1) * fraction) > floor(i * fraction)`, so any first `n` batches hold
 * `floor(n * fraction)` replayed ones, evenly spread, and resuming continues the same pattern.
 *
 * @example
 * ```ts
 * const data = new ReplayData(taskBBatches, taskABatches, { fraction: 0.25 }); // 1 batch in 4 from task A
 * const trainer = new Trainer({ model, loss: causalLanguageModelLoss, data, config: { maxSteps: 500 } });
 * ```
 */
export class ReplayData<Batch> implements TrainingData<Batch> {
  private counts: Record<Split, number> = { train: 0, validation: 0 };

  constructor(
    private readonly newData: TrainingData<Batch>,
    private readonly originalData: TrainingData<Batch>,
    private readonly options: ReplayOptions,
  ) {
    const { fraction, validation = 'new' } = options;
    if (!(fraction >= 0 && fraction < 1))
      throw new TrainerError(
        'invalid_config',
        `ReplayData: fraction must be in [0, 1), got ${fraction}`,
      );
    if (!['new', 'original', 'mixed'].includes(validation))
      throw new TrainerError(
        'invalid_config',
        `ReplayData: validation must be "new", "original" or "mixed", got ${JSON.stringify(validation)}`,
      );
  }

  /** Whether the `index`-th batch (from 0) of a mixed stream comes from the original data. */
  isReplayed(index: number): boolean {
    const f = this.options.fraction;
    return Math.floor((index + 1) * f) > Math.floor(index * f);
  }

  next(split: Split): Batch {
    const index = this.counts[split]++;
    const mode = split === 'train' ? 'mixed' : (this.options.validation ?? 'new');
    const original = mode === 'original' || (mode === 'mixed' && this.isReplayed(index));
    return (original ? this.originalData : this.newData).next(split);
  }

  state(): ReplayState {
    return {
      trainBatches: this.counts.train,
      validationBatches: this.counts.validation,
      new: this.newData.state(),
      original: this.originalData.state(),
    };
  }

  restore(state: unknown): void {
    const s = state as ReplayState;
    if (!Number.isInteger(s?.trainBatches) || !Number.isInteger(s?.validationBatches))
      throw new TrainerError(
        'corrupt_file',
        `ReplayData.restore: expected { trainBatches, validationBatches, new, original }, got ${JSON.stringify(state)?.slice(0, 200)}`,
      );
    this.counts = { train: s.trainBatches, validation: s.validationBatches };
    this.newData.restore(s.new);
    this.originalData.restore(s.original);
  }
}
