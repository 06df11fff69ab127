import { TrainerError } from './errors.js';

/** A learning-rate schedule: warmup, then constant, linear or cosine decay to `minLearningRate`. */
export interface Schedule {
  /** Shape after warmup. `cosine` is nanoGPT's; `linear` is Hugging Face's default. */
  kind: 'constant' | 'linear' | 'cosine';
  /** Peak learning rate, reached at the end of warmup. */
  learningRate: number;
  /** Steps of linear warmup from ~0 to `learningRate` (nanoGPT: `lr * (step + 1) / (warmup + 1)`). */
  warmupSteps: number;
  /** Step at which decay ends; after it the rate stays at `minLearningRate`. */
  decaySteps: number;
  /** Floor of the decay (nanoGPT: a tenth of the peak). */
  minLearningRate: number;
}

/** Throws a clear error for an inconsistent schedule. */
export function validateSchedule(schedule: Schedule): void {
  const { learningRate, warmupSteps, decaySteps, minLearningRate, kind } = schedule;
  if (!['constant', 'linear', 'cosine'].includes(kind)) {
    throw new TrainerError(
      'invalid_config',
      `schedule.kind is ${JSON.stringify(kind)}; expected constant, linear or cosine`,
    );
  }
  if (!(learningRate > 0))
    throw new TrainerError(
      'invalid_config',
      `schedule.learningRate must be > 0, got ${learningRate}`,
    );
  if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
    throw new TrainerError(
      'invalid_config',
      `schedule.minLearningRate must be in [0, learningRate=${learningRate}], got ${minLearningRate}`,
    );
  }
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new TrainerError(
      'invalid_config',
      `schedule.warmupSteps must be an integer >= 0, got ${warmupSteps}`,
    );
  }
  if (kind !== 'constant' && !(decaySteps > warmupSteps)) {
    throw new TrainerError(
      'invalid_config',
      `schedule.decaySteps (${decaySteps}) must exceed warmupSteps (${warmupSteps})`,
    );
  }
}

/**
 * The learning rate at `step` (0-based), as nanoGPT's `get_lr` for `cosine`.
 *
 * @example
 * ```ts
 * const s = { kind: 'cosine', learningRate: 1e-3, warmupSteps: 100, decaySteps: 2000, minLearningRate: 1e-4 } as const;
 * learningRateAt(s, 0);    // 9.9e-6  (warmup)
 * learningRateAt(s, 1050); // 5.5e-4  (half way down the cosine)
 * learningRateAt(s, 5000); // 1e-4
 * ```
 */
export function learningRateAt(schedule: Schedule, step: number): number {
  const { kind, learningRate, warmupSteps, decaySteps, minLearningRate } = schedule;
  if (step < warmupSteps) return (learningRate * (step + 1)) / (warmupSteps + 1);
  if (kind === 'constant') return learningRate;
  if (step > decaySteps) return minLearningRate;
  const ratio = (step - warmupSteps) / (decaySteps - warmupSteps);
  const coefficient = kind === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * ratio)) : 1 - ratio;
  return minLearningRate + coefficient * (learningRate - minLearningRate);
}
