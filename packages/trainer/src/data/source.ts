/** Which part of the data a batch comes from. */
export type Split = 'train' | 'validation';

/**
 * Where a trainer gets its batches. `state()` and `restore()` capture the position in the data
 * (including any random stream), so a resumed run draws exactly the batches it would have.
 */
export interface TrainingData<Batch> {
  /** The next batch of `split`. */
  next(split: Split): Batch;
  /** A JSON-serialisable position in the data. */
  state(): unknown;
  /** Returns to a position from `state()`. */
  restore(state: unknown): void;
}
