// A seeded, resumable per-epoch shuffle shared by the task data sources (not exported).
import { Generator } from '@llmkit/core-tensor';
import { TrainerError } from '../errors.js';
import type { Split } from '../data/source.js';

/** Position of a shuffled task data source (LabelledSequences, Seq2SeqBatches): items consumed per split. */
export interface EpochState {
  /** The shuffle seed. */
  seed: number;
  /** Items taken from each split so far. */
  consumed: Record<Split, number>;
}

/**
 * Indices into each split, reshuffled (Fisher-Yates) at every epoch from a seeded generator.
 * The position is just the number of items taken, which rebuilds the exact order on restore.
 */
export class EpochOrder {
  private generators!: Record<Split, Generator>;
  private readonly orders: Record<Split, number[]> = { train: [], validation: [] };
  private consumed: Record<Split, number> = { train: 0, validation: 0 };

  constructor(
    private readonly sizes: Record<Split, number>,
    private readonly seed: number,
    private readonly where: string,
  ) {
    for (const split of ['train', 'validation'] as const) {
      if (!(sizes[split] > 0))
        throw new TrainerError('invalid_data', `${where}: the ${split} split is empty`);
    }
    this.reset();
  }

  private reset(): void {
    this.generators = { train: new Generator(this.seed), validation: new Generator(this.seed + 1) };
    this.consumed = { train: 0, validation: 0 };
  }

  /** The index of the next item of `split`. */
  take(split: Split): number {
    const order = this.orders[split];
    const count = this.sizes[split];
    if (this.consumed[split] % count === 0) {
      order.length = 0;
      for (let i = 0; i < count; i++) order.push(i);
      for (let i = count - 1; i > 0; i--) {
        const j = this.generators[split].nextInt(0, i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    return order[this.consumed[split]++ % count];
  }

  state(): EpochState {
    return { seed: this.seed, consumed: { ...this.consumed } };
  }

  restore(state: unknown): void {
    const s = state as EpochState;
    if (
      s?.seed !== this.seed ||
      !Number.isInteger(s.consumed?.train) ||
      !Number.isInteger(s.consumed?.validation)
    ) {
      throw new TrainerError(
        'corrupt_file',
        `${this.where}.restore: expected { seed: ${this.seed}, consumed: { train, validation } }, got ${JSON.stringify(state)}`,
      );
    }
    this.reset();
    for (const split of ['train', 'validation'] as const)
      for (let i = 0; i < s.consumed[split]; i++) this.take(split);
  }
}

/** Checks a positive integer option. */
export function positiveInteger(where: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new TrainerError(
      'invalid_config',
      `${where}: ${name} must be a positive integer, got ${value}`,
    );
  return value;
}

/**
 * Splits items into a training and a held-out part after a seeded shuffle: the last
 * `round(items.length * validationFraction)` items of the shuffled order (at least one) are held out.
 *
 * @example
 * ```ts
 * const { train, validation } = holdOut(sentences, 0.1, 1337);
 * ```
 */
export function holdOut<T>(
  items: readonly T[],
  validationFraction: number,
  seed = 1337,
): { train: T[]; validation: T[] } {
  if (!(validationFraction > 0 && validationFraction < 1))
    throw new TrainerError(
      'invalid_config',
      `holdOut: validationFraction must be in (0, 1), got ${validationFraction}`,
    );
  if (items.length < 2)
    throw new TrainerError('invalid_data', `holdOut: need at least 2 items, got ${items.length}`);
  const order = items.map((_, i) => i);
  const generator = new Generator(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = generator.nextInt(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const held = Math.min(
    items.length - 1,
    Math.max(1, Math.round(items.length * validationFraction)),
  );
  const cut = items.length - held;
  return {
    train: order.slice(0, cut).map((i) => items[i]),
    validation: order.slice(cut).map((i) => items[i]),
  };
}
