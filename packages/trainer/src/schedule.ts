import { checkChoice, checkNumber } from '@llmkit/utils';

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

/**
 * Throws `LlmkitError` (`invalid_config`) naming the field of an inconsistent schedule.
 *
 * @example
 * ```ts
 * validateSchedule({ kind: 'cosine', learningRate: 1e-3, warmupSteps: 100, decaySteps: 50, minLearningRate: 1e-4 });
 * // throws: schedule: decaySteps must be a finite number > 100, got 50
 * ```
 */
export function validateSchedule(schedule: Schedule): void {
  const where = 'schedule';
  const { learningRate, warmupSteps, decaySteps, kind } = schedule;
  checkChoice(where, 'kind', kind, ['constant', 'linear', 'cosine']);
  checkNumber(where, 'learningRate', learningRate, { min: 0, minExclusive: true });
  checkNumber(where, 'minLearningRate', schedule.minLearningRate, { min: 0, max: learningRate });
  checkNumber(where, 'warmupSteps', warmupSteps, { min: 0, integer: true });
  if (kind !== 'constant')
    checkNumber(where, 'decaySteps', decaySteps, { min: warmupSteps, minExclusive: true });
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
