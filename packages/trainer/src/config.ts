import { checkNumber, configError, type NumberRange, withDefaults } from '@llmkit/utils';
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

const WHERE = 'Trainer config';

// Every TrainerConfig field with its default; `undefined` where the field is required (maxSteps),
// off unless given (checkpoint, earlyStopping) or defaulted from maxSteps (schedule, below). The
// known keys are this object's keys; `satisfies` makes the compiler reject a field missing here.
const DEFAULTS = {
  maxSteps: undefined,
  schedule: undefined,
  betas: [0.9, 0.999],
  epsilon: 1e-8,
  weightDecay: 0.1,
  gradientAccumulationSteps: 1,
  maxGradNorm: 1.0,
  evalInterval: 250,
  evalBatches: 20,
  checkpoint: undefined,
  earlyStopping: undefined,
} satisfies { [K in keyof Required<TrainerConfig>]: TrainerConfig[K] | undefined };

const COUNT: NumberRange = { min: 1, integer: true };

/** The schedule defaults for a run of `maxSteps`: cosine from 1e-3 to a tenth, 100 warmup steps. */
function scheduleDefaults(maxSteps: number, learningRate = 1e-3): Schedule {
  return {
    kind: 'cosine',
    learningRate,
    warmupSteps: Math.min(100, Math.floor(maxSteps / 10)),
    decaySteps: maxSteps,
    minLearningRate: learningRate / 10,
  };
}

/**
 * `config` with every default filled in, after checking each field (unknown keys included, so a
 * typo such as `maxIters` is not ignored). Throws `LlmkitError` (`invalid_config`) naming the
 * field.
 *
 * @example
 * ```ts
 * resolveConfig({ maxSteps: 2000 }).schedule.warmupSteps; // 100
 * ```
 */
export function resolveConfig(config: TrainerConfigInput): TrainerConfig {
  if (typeof config !== 'object' || config === null)
    configError(WHERE, 'config', config, 'an object');
  const c = withDefaults<Record<keyof TrainerConfig, unknown>>(config, DEFAULTS, WHERE);
  const maxSteps = checkNumber(WHERE, 'maxSteps', c.maxSteps, COUNT);
  const defaults = scheduleDefaults(maxSteps, config.schedule?.learningRate);
  const schedule = withDefaults(config.schedule, defaults, `${WHERE}: schedule`);
  validateSchedule(schedule);
  if (!Array.isArray(c.betas) || c.betas.length !== 2)
    configError(WHERE, 'betas', c.betas, 'two numbers [beta1, beta2]');
  const beta = { min: 0, max: 1, maxExclusive: true };
  const patience = config.earlyStopping?.patience;
  if (patience !== undefined) checkNumber(WHERE, 'earlyStopping.patience', patience, COUNT);
  return {
    ...(c as TrainerConfig),
    maxSteps,
    schedule,
    betas: [
      checkNumber(WHERE, 'betas[0]', c.betas[0], beta),
      checkNumber(WHERE, 'betas[1]', c.betas[1], beta),
    ],
    epsilon: checkNumber(WHERE, 'epsilon', c.epsilon, { min: 0, minExclusive: true }),
    weightDecay: checkNumber(WHERE, 'weightDecay', c.weightDecay, { min: 0 }),
    gradientAccumulationSteps: checkNumber(
      WHERE,
      'gradientAccumulationSteps',
      c.gradientAccumulationSteps,
      COUNT,
    ),
    maxGradNorm: checkNumber(WHERE, 'maxGradNorm', c.maxGradNorm, { min: 0 }),
    evalInterval: checkNumber(WHERE, 'evalInterval', c.evalInterval, COUNT),
    evalBatches: checkNumber(WHERE, 'evalBatches', c.evalBatches, COUNT),
  };
}
