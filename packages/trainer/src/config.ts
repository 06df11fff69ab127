import { TrainerError } from './errors.js';
import { type Schedule, validateSchedule } from './schedule.js';

/** How a {@link Trainer} trains. Every field has a default except `maxSteps`. */
export interface TrainerConfig {
  /** Optimizer steps to run. */
  maxSteps: number;
  /** Learning-rate schedule; defaults: cosine, 1e-3 peak, 100 warmup steps, decay to a tenth at `maxSteps`. */
  schedule: Schedule;
  /** AdamW moment decay rates (default [0.9, 0.999], PyTorch's; nanoGPT's small runs use 0.99). */
  betas: [number, number];
  /** AdamW epsilon (default 1e-8). */
  epsilon: number;
  /** Decoupled weight decay on matrices; never on 1-D parameters (biases, norms), as nanoGPT (default 0.1). */
  weightDecay: number;
  /** Micro-batches whose gradients are summed before each optimizer step (default 1). */
  gradientAccumulationSteps: number;
  /** Clip the global gradient norm to this; 0 disables (default 1.0). */
  maxGradNorm: number;
  /** Evaluate (and checkpoint) every this many steps, and at the last step (default 250). */
  evalInterval: number;
  /** Validation batches per evaluation (default 20, nanoGPT's `eval_iters` for small runs). */
  evalBatches: number;
  /** Where and how often to checkpoint; none when absent. */
  checkpoint?: {
    /** Folder of the run. */
    dir: string;
    /** Checkpoint every this many steps (default: at each evaluation). */
    interval?: number;
    /** Checkpoints kept (default 3). */
    keepLast?: number;
  };
  /** Stop when validation loss has not improved by `minDelta` for `patience` evaluations. */
  earlyStopping?: { patience: number; minDelta?: number };
}

/** What callers pass: `maxSteps` and any fields (and schedule fields) to override. */
export type TrainerConfigInput = Omit<Partial<TrainerConfig>, 'schedule'> & {
  maxSteps: number;
  schedule?: Partial<Schedule>;
};

/** `config` with every default filled in, after checking each field. */
export function resolveConfig(config: TrainerConfigInput): TrainerConfig {
  const { maxSteps } = config;
  if (!Number.isInteger(maxSteps) || maxSteps < 1)
    throw new TrainerError(
      'invalid_config',
      `maxSteps must be a positive integer, got ${maxSteps}`,
    );
  const learningRate = config.schedule?.learningRate ?? 1e-3;
  const resolved: TrainerConfig = {
    betas: [0.9, 0.999],
    epsilon: 1e-8,
    weightDecay: 0.1,
    gradientAccumulationSteps: 1,
    maxGradNorm: 1.0,
    evalInterval: 250,
    evalBatches: 20,
    ...config,
    schedule: {
      kind: 'cosine',
      learningRate,
      warmupSteps: Math.min(100, Math.floor(maxSteps / 10)),
      decaySteps: maxSteps,
      minLearningRate: learningRate / 10,
      ...config.schedule,
    },
  };
  validateSchedule(resolved.schedule);
  const positiveIntegers = ['gradientAccumulationSteps', 'evalInterval', 'evalBatches'] as const;
  for (const key of positiveIntegers) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1)
      throw new TrainerError(
        'invalid_config',
        `${key} must be a positive integer, got ${resolved[key]}`,
      );
  }
  if (!(resolved.maxGradNorm >= 0))
    throw new TrainerError(
      'invalid_config',
      `maxGradNorm must be >= 0 (0 disables clipping), got ${resolved.maxGradNorm}`,
    );
  if (!(resolved.weightDecay >= 0))
    throw new TrainerError(
      'invalid_config',
      `weightDecay must be >= 0, got ${resolved.weightDecay}`,
    );
  const patience = resolved.earlyStopping?.patience;
  if (patience !== undefined && (!Number.isInteger(patience) || patience < 1)) {
    throw new TrainerError(
      'invalid_config',
      `earlyStopping.patience must be a positive integer, got ${patience}`,
    );
  }
  return resolved;
}
