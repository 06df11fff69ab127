// What the trainers share: AdamW over the policy, deterministic batch order, abort checks, and
// checkpoints through @llmkit/trainer's saveCheckpoint / loadCheckpoint (weights, optimizer
// state, step and the global random generator), so a resumed run takes the same next step as
// one that never stopped.
import {
  AdamW,
  type AdamWOptions,
  defaultGenerator,
  Generator,
  type Module,
  type Tensor,
} from '@llmkit/core-tensor';
import { listCheckpoints, loadCheckpoint, saveCheckpoint } from '@llmkit/trainer';
import { RlhfError } from './errors.js';

/** AdamW's options for a trainer, plus gradient clipping. */
export interface OptimizerOptions extends Partial<AdamWOptions> {
  /** Clip the global gradient norm to this before each step (default 1; 0 turns it off). */
  maxGradNorm?: number;
}

/** Where and how often a trainer saves checkpoints. */
export interface CheckpointOptions {
  /** The folder of `checkpoint-NNNNNNN/` subfolders (@llmkit/trainer's layout). */
  dir: string;
  /** Save every this many steps (and after the last step). Default: only after the last step. */
  every?: number;
  /** Continue from the newest checkpoint in `dir` (its step, weights, optimizer and rng). */
  resume?: boolean;
  /** Checkpoints to keep (default 3). */
  keepLast?: number;
}

/** What every trainer's `onStep` receives. */
export interface StepMetrics {
  /** Optimizer steps completed, 1 after the first. */
  step: number;
  /** The loss of this step. */
  loss: number;
  /** Milliseconds this step took. */
  ms: number;
  /** Further named metrics (`rewards/chosen`, `kl`, ...). */
  [name: string]: number;
}

/**
 * AdamW over the trainable ones of `params` (those with requiresGrad: a PeftModel's adapter, not
 * its frozen base), weight decay 0 by default (RLHF runs are short and start from a tuned model).
 */
export function makeOptimizer(params: Tensor[], options: OptimizerOptions = {}): AdamW {
  const { maxGradNorm: _, ...adam } = options;
  const trainable = params.filter((p) => p.requiresGrad);
  if (trainable.length === 0)
    throw new RlhfError(
      'invalid_argument',
      'the policy has no trainable parameters (every parameter has requiresGrad false)',
    );
  return new AdamW(trainable, { lr: 1e-5, weightDecay: 0, ...adam });
}

/**
 * The indices of the examples of `step` (0-based): each epoch walks a permutation of `0..n-1`
 * drawn from `seed` and the epoch number, so the batch of a step depends on nothing else and a
 * resumed run sees the same batches.
 *
 * @example
 * ```ts
 * batchIndices(10, 4, 0, 1); // 4 distinct indices in [0, 10)
 * ```
 */
export function batchIndices(n: number, batchSize: number, step: number, seed: number): number[] {
  const out: number[] = [];
  let position = step * batchSize;
  while (out.length < batchSize) {
    const epoch = Math.floor(position / n);
    const generator = new Generator(seed * 1_000_003 + epoch);
    const permutation = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = generator.nextInt(0, i + 1);
      [permutation[i], permutation[j]] = [permutation[j], permutation[i]];
    }
    out.push(permutation[position % n]);
    position++;
  }
  return out;
}

/** Throws `aborted` when `signal` has fired (checked before each update). */
export function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted) throw new RlhfError('aborted', `${where}: aborted`);
}

/** Checks that a trainer's step count and batch size are positive integers. */
export function checkCounts(where: string, counts: Record<string, number>): void {
  for (const [name, value] of Object.entries(counts))
    if (!Number.isInteger(value) || value < 1)
      throw new RlhfError(
        'invalid_config',
        `${where}: ${name} must be a positive integer, got ${value}`,
      );
}

/** What a trainer restores on resume. */
export interface ResumedState {
  step: number;
  history: [number, number, number | null][];
  extra: Record<string, unknown>;
}

/**
 * Loads the newest checkpoint of `options.dir` into `model` and `optimizer` when `resume` is set,
 * restoring the global random generator; returns step 0 otherwise.
 */
export async function resumeFrom(
  options: CheckpointOptions | undefined,
  model: Module,
  optimizer: AdamW,
  method: string,
): Promise<ResumedState> {
  if (!options?.resume) return { step: 0, history: [], extra: {} };
  const steps = await listCheckpoints(options.dir);
  if (steps.length === 0)
    throw new RlhfError('not_found', `${method}: resume: no checkpoint in ${options.dir}`);
  const state = await loadCheckpoint(options.dir, { model, optimizer });
  const extra = state.extra ?? {};
  if (extra.method !== method)
    throw new RlhfError(
      'invalid_config',
      `${method}: resume: ${options.dir} holds a ${String(extra.method)} checkpoint; expected ${method}`,
    );
  if (state.rng) defaultGenerator.setState(state.rng);
  return { step: state.step, history: state.history, extra };
}

/** Saves a checkpoint when `step` is due (every `every` steps, and the last step). */
export async function maybeSave(
  options: CheckpointOptions | undefined,
  model: Module,
  optimizer: AdamW,
  step: number,
  lastStep: number,
  history: [number, number, number | null][],
  extra: Record<string, unknown>,
): Promise<void> {
  if (!options) return;
  const due = step === lastStep || (options.every !== undefined && step % options.every === 0);
  if (!due) return;
  await saveCheckpoint(options.dir, {
    model,
    optimizer,
    keepLast: options.keepLast,
    state: {
      step,
      data: null,
      bestValidationLoss: null,
      evaluationsWithoutImprovement: 0,
      history,
      rng: defaultGenerator.getState(),
      extra,
    },
  });
}
