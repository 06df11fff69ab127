import { Generator } from '@llmkit/core-tensor';
import { TrainerError } from '../errors.js';
import type { Split, TrainingData } from './source.js';

/** A batch for next-token prediction: inputs and the same windows shifted by one. */
export interface LanguageModelBatch {
  /** Token ids, `[batchSize * blockSize]`, row-major `[batchSize, blockSize]`. */
  inputs: Int32Array;
  /** `inputs` shifted left by one token: the ids to predict. */
  targets: Int32Array;
  /** Rows in the batch. */
  batchSize: number;
  /** Tokens per row. */
  blockSize: number;
}

/** Options of {@link TokenWindows}. */
export interface TokenWindowsOptions {
  /** Tokens per window (the model's context length). */
  blockSize: number;
  /** Windows per batch. */
  batchSize: number;
  /** Fraction of the stream used for training; the rest is validation (nanoGPT: 0.9). */
  trainFraction?: number;
  /** Seed of the window sampler (default 1337, nanoGPT's). */
  seed?: number;
}

/** Position of a {@link TokenWindows} stream: its seed and how many windows it has drawn. */
export interface TokenWindowsState {
  /** The sampler's seed. */
  seed: number;
  /** Windows drawn so far. */
  draws: number;
}

/**
 * Random contiguous windows from one token stream, as nanoGPT's `get_batch`: the first
 * `trainFraction` of the tokens is the training split, the rest validation; each batch takes
 * `batchSize` windows at uniformly random starts. The sampler is seeded; its position is the
 * number of draws, so `state()`/`restore()` reproduce the stream exactly.
 *
 * @example
 * ```ts
 * const data = new TokenWindows(tokenizer.encode(text), { blockSize: 64, batchSize: 12 });
 * const { inputs, targets } = data.next('train'); // 12 x 64 ids each
 * ```
 */
export class TokenWindows implements TrainingData<LanguageModelBatch> {
  private readonly splits: Record<Split, Int32Array>;
  private readonly blockSize: number;
  private readonly batchSize: number;
  private readonly seed: number;
  private generator: Generator;
  private draws = 0;

  constructor(tokens: ArrayLike<number>, options: TokenWindowsOptions) {
    const { blockSize, batchSize, trainFraction = 0.9, seed = 1337 } = options;
    for (const [name, value] of [
      ['blockSize', blockSize],
      ['batchSize', batchSize],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new TrainerError(
          'invalid_config',
          `TokenWindows: ${name} must be a positive integer, got ${value}`,
        );
    }
    if (!(trainFraction > 0 && trainFraction < 1)) {
      throw new TrainerError(
        'invalid_config',
        `TokenWindows: trainFraction must be in (0, 1), got ${trainFraction}`,
      );
    }
    const all = Int32Array.from(tokens);
    const cut = Math.floor(all.length * trainFraction);
    this.splits = { train: all.subarray(0, cut), validation: all.subarray(cut) };
    for (const split of ['train', 'validation'] as const) {
      const length = this.splits[split].length;
      if (length < blockSize + 1) {
        throw new TrainerError(
          'invalid_data',
          `TokenWindows: the ${split} split has ${length} tokens (of ${all.length}); a window needs blockSize + 1 = ${blockSize + 1}. Use more data or a smaller blockSize`,
        );
      }
    }
    this.blockSize = blockSize;
    this.batchSize = batchSize;
    this.seed = seed;
    this.generator = new Generator(seed);
  }

  /** Number of tokens in a split. */
  tokenCount(split: Split): number {
    return this.splits[split].length;
  }

  next(split: Split): LanguageModelBatch {
    const data = this.splits[split];
    const { blockSize: T, batchSize: B } = this;
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = this.generator.nextInt(0, data.length - T);
      this.draws++;
      inputs.set(data.subarray(start, start + T), b * T);
      targets.set(data.subarray(start + 1, start + 1 + T), b * T);
    }
    return { inputs, targets, batchSize: B, blockSize: T };
  }

  state(): TokenWindowsState {
    return { seed: this.seed, draws: this.draws };
  }

  restore(state: unknown): void {
    const { seed, draws } = state as TokenWindowsState;
    if (seed !== this.seed || !Number.isInteger(draws) || draws < 0) {
      throw new TrainerError(
        'corrupt_file',
        `TokenWindows.restore: expected { seed: ${this.seed}, draws >= 0 }, got ${JSON.stringify(state)}`,
      );
    }
    this.generator = new Generator(seed);
    for (let i = 0; i < draws; i++) this.generator.nextInt(0, 2);
    this.draws = draws;
  }
}
