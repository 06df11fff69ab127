// DPO over a causal language model (Rafailov et al. 2023): each step tokenizes a batch of
// (prompt, chosen, rejected) pairs, sums the completion tokens' log-probabilities under the policy
// (chosen and rejected rows in one forward pass) and under the reference, and takes an AdamW step
// on dpoLoss. The reference is, in order of preference: `reference` (a frozen copy), the policy
// with its adapters disabled (a @llmkit/peft model: anything with disableAdapters /
// enableAdapters), or the policy's own log-probs precomputed once before the first update (kept
// in the checkpoint, so a resumed run uses the same ones). Dropout is off during the run (the
// policy is put in eval mode), as TRL does, so policy and reference agree before training.
// Not handled: a prompt longer than blockSize (an error names the pair; truncate beforehand).
import { clipGradNorm, fromValues, narrow, noGrad, type Tensor, tidy } from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';
import { asCausalPolicy, type PolicyModel } from '../policy.js';
import { sequenceLogProbs } from '../log-probs.js';
import {
  batchIndices,
  type CheckpointOptions,
  checkCounts,
  makeOptimizer,
  maybeSave,
  type OptimizerOptions,
  resumeFrom,
  type StepMetrics,
  throwIfAborted,
} from '../run.js';
import {
  batchTokenLogProbs,
  type CausalPolicy,
  type CompletionRow,
  completionBatch,
  type TextTokenizer,
} from '../sequences.js';
import { type DpoConfig, validateDpoConfig } from './config.js';
import { dpoLoss } from './loss.js';

/** One preference pair: `chosen` is the better completion of `prompt`. */
export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
}

/** Options of {@link trainDpo}. */
export interface DpoTrainerOptions {
  /**
   * The model to train: a GPT, or a @llmkit/peft PeftModel of one (LoRA or IA3: only the adapter
   * trains, and with no `reference` the policy with adapters disabled is the reference).
   */
  policy: PolicyModel;
  /** A frozen reference (never updated); see the module comment for what happens without one. */
  reference?: CausalPolicy;
  /** The preference data. */
  pairs: readonly PreferencePair[];
  /** Tokenizer of the policy. */
  tokenizer: TextTokenizer;
  /** DPO's loss options (beta, loss type, label smoothing). */
  config?: Partial<DpoConfig>;
  /** AdamW options (lr default 1e-5, weight decay 0) and gradient clipping (max norm 1). */
  optimizer?: OptimizerOptions;
  /** Optimizer steps to run in total (a resumed run continues up to it). */
  steps: number;
  /** Pairs per step (default 8). */
  batchSize?: number;
  /** Seed of the batch order (default 0). */
  seed?: number;
  /** Called after each step with its metrics. */
  onStep?: (metrics: StepMetrics) => void;
  /** Stops the run before the next update (an `aborted` error). */
  signal?: AbortSignal;
  /** Save (and resume from) checkpoints. */
  checkpoint?: CheckpointOptions;
}

/** What {@link trainDpo} returns. */
export interface DpoTrainerResult {
  /** Metrics of each step of this run. */
  history: StepMetrics[];
  /** The step reached. */
  step: number;
}

/** Tokenizes and checks every pair before any work: errors name the pair index. */
function tokenizePairs(
  pairs: readonly PreferencePair[],
  tokenizer: TextTokenizer,
): { chosen: CompletionRow; rejected: CompletionRow }[] {
  if (pairs.length === 0) throw new RlhfError('invalid_data', 'trainDpo: no preference pairs');
  return pairs.map((pair, i) => {
    for (const field of ['prompt', 'chosen', 'rejected'] as const)
      if (typeof pair[field] !== 'string')
        throw new RlhfError(
          'invalid_data',
          `trainDpo: pair ${i}: ${field} is ${JSON.stringify(pair[field])}, expected a string`,
        );
    if (pair.chosen === pair.rejected)
      throw new RlhfError(
        'invalid_data',
        `trainDpo: pair ${i}: chosen equals rejected (${JSON.stringify(pair.chosen.slice(0, 40))}); a pair must prefer one completion over a different one`,
      );
    const prompt = tokenizer.encode(pair.prompt);
    const chosen = tokenizer.encode(pair.chosen);
    const rejected = tokenizer.encode(pair.rejected);
    for (const [name, ids] of [
      ['chosen', chosen],
      ['rejected', rejected],
    ] as const)
      if (ids.length === 0)
        throw new RlhfError('invalid_data', `trainDpo: pair ${i}: the ${name} completion is empty`);
    return { chosen: { prompt, completion: chosen }, rejected: { prompt, completion: rejected } };
  });
}

interface Adapters {
  disableAdapters(): unknown;
  enableAdapters(): unknown;
}

function hasAdapters(model: object): model is Adapters {
  const m = model as Partial<Adapters>;
  return typeof m.disableAdapters === 'function' && typeof m.enableAdapters === 'function';
}

/** Sequence log-probs [2B] of chosen rows then rejected rows. */
function pairLogProbs(
  model: CausalPolicy,
  rows: { chosen: CompletionRow; rejected: CompletionRow }[],
  indices: number[],
): Tensor {
  const batch = completionBatch(
    [...rows.map((r) => r.chosen), ...rows.map((r) => r.rejected)],
    model.config.blockSize,
    (row) =>
      `trainDpo: pair ${indices[row % indices.length]} (${row < indices.length ? 'chosen' : 'rejected'})`,
  );
  return sequenceLogProbs(batchTokenLogProbs(model, batch), batch.completionMask);
}

/**
 * Trains `policy` with DPO on preference pairs; returns per-step metrics (`loss`,
 * `rewards/chosen`, `rewards/rejected`, `rewards/accuracies`, `rewards/margins`, `ms`).
 *
 * @example
 * ```ts
 * const { history } = await trainDpo({ policy, pairs, tokenizer, steps: 100, batchSize: 8, config: { beta: 0.1 } });
 * console.log(history.at(-1)?.['rewards/accuracies']);
 * ```
 */
export async function trainDpo(options: DpoTrainerOptions): Promise<DpoTrainerResult> {
  const config = validateDpoConfig(options.config);
  const { tokenizer, steps, batchSize = 8, seed = 0 } = options;
  const policy = asCausalPolicy(options.policy, 'trainDpo');
  checkCounts('trainDpo', { steps, batchSize });
  const rows = tokenizePairs(options.pairs, tokenizer);
  // every pair must fit the model before any work starts
  for (let i = 0; i < rows.length; i++)
    for (const side of ['chosen', 'rejected'] as const)
      completionBatch(
        [rows[i][side]],
        policy.config.blockSize,
        () => `trainDpo: pair ${i} (${side})`,
      );
  const wasTraining = policy.training;
  policy.eval();
  const optimizer = makeOptimizer(policy.parameters(), options.optimizer);
  const maxGradNorm = options.optimizer?.maxGradNorm ?? 1;
  try {
    const resumed = await resumeFrom(options.checkpoint, policy, optimizer, 'dpo');
    let precomputed = resumed.extra.referenceLogProbs as number[][] | undefined;
    const referenceOf = (indices: number[]): Tensor =>
      noGrad(() => {
        if (options.reference)
          return pairLogProbs(
            options.reference,
            indices.map((i) => rows[i]),
            indices,
          );
        if (hasAdapters(policy)) {
          policy.disableAdapters();
          try {
            return pairLogProbs(
              policy,
              indices.map((i) => rows[i]),
              indices,
            );
          } finally {
            policy.enableAdapters();
          }
        }
        // precomputed once: [chosen, rejected] per pair
        const values = [
          ...indices.map((i) => precomputed![i][0]),
          ...indices.map((i) => precomputed![i][1]),
        ];
        return fromValues(values, [values.length]);
      });
    if (!options.reference && !hasAdapters(policy) && !precomputed) {
      const table: number[][] = [];
      for (let start = 0; start < rows.length; start += batchSize) {
        const indices = Array.from(
          { length: Math.min(batchSize, rows.length - start) },
          (_, k) => start + k,
        );
        const values = tidy(() =>
          Array.from(
            noGrad(() =>
              pairLogProbs(
                policy,
                indices.map((i) => rows[i]),
                indices,
              ),
            ).dataSync(),
          ),
        );
        for (let k = 0; k < indices.length; k++)
          table.push([values[k], values[k + indices.length]]);
      }
      precomputed = table;
    }
    const extra = {
      method: 'dpo',
      config,
      seed,
      batchSize,
      ...(precomputed ? { referenceLogProbs: precomputed } : {}),
    };
    const history: StepMetrics[] = [];
    const runHistory = resumed.history;
    for (let step = resumed.step; step < steps; step++) {
      throwIfAborted(options.signal, 'trainDpo');
      const started = performance.now();
      const indices = batchIndices(rows.length, Math.min(batchSize, rows.length), step, seed);
      const B = indices.length;
      const numbers = tidy(() => {
        const reference = referenceOf(indices);
        const policyLogProbs = pairLogProbs(
          policy,
          indices.map((i) => rows[i]),
          indices,
        );
        const result = dpoLoss(
          {
            policyChosen: narrow(policyLogProbs, 0, 0, B),
            policyRejected: narrow(policyLogProbs, 0, B, B),
            referenceChosen: narrow(reference, 0, 0, B),
            referenceRejected: narrow(reference, 0, B, B),
          },
          config,
        );
        const loss = result.loss.item();
        if (!Number.isFinite(loss))
          throw new RlhfError(
            'invalid_data',
            `trainDpo: step ${step + 1}: the loss is ${loss}; no update was made`,
          );
        policy.zeroGrad();
        result.loss.backward();
        if (maxGradNorm > 0) clipGradNorm(policy.parameters(), maxGradNorm);
        optimizer.step();
        policy.zeroGrad();
        const mean = (t: Tensor) =>
          Array.from(t.dataSync() as Float32Array).reduce((a, b) => a + b, 0) / B;
        return {
          loss,
          'rewards/chosen': mean(result.chosenRewards),
          'rewards/rejected': mean(result.rejectedRewards),
          'rewards/accuracies': result.accuracy,
          'rewards/margins': result.margin,
        };
      });
      const metrics: StepMetrics = { step: step + 1, ...numbers, ms: performance.now() - started };
      history.push(metrics);
      runHistory.push([step + 1, numbers.loss, null]);
      options.onStep?.(metrics);
      await maybeSave(options.checkpoint, policy, optimizer, step + 1, steps, runHistory, extra);
    }
    return { history, step: Math.max(steps, resumed.step) };
  } finally {
    policy.train(wasTraining);
  }
}
