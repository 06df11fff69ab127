// GRPO over a causal language model (Shao et al. 2024): each step samples `groupSize`
// completions of each of `batchSize` prompts with the current policy, scores them with a reward
// function, normalises the rewards within each group (groupAdvantages), and takes `iterations`
// AdamW steps on grpoLoss, whose old log-probs are the sampling policy's (computed once, before
// the first update of the step). With klCoefficient > 0 the k3 KL to the reference joins the loss:
// `reference` (a frozen copy) or, for a @llmkit/peft model, the policy with adapters disabled.
// Dropout is off during the run (eval mode). Not handled: rewards per token (outcome rewards only).
import { clipGradNorm, fromValues, noGrad, type Tensor, tidy } from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';
import { asCausalPolicy, type PolicyModel } from '../policy.js';
import type { RewardFunction } from '../reward/loss.js';
import { type RolloutSampling, sampleRollout, tokenizePrompts } from '../rollout.js';
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
  type CompletionBatch,
  completionBatch,
  type TextTokenizer,
} from '../sequences.js';
import { type GrpoConfig, validateGrpoConfig } from './config.js';
import { groupAdvantages, grpoLoss } from './loss.js';

/** Options of {@link trainGrpo}. */
export interface GrpoTrainerOptions {
  /**
   * The model to train: a GPT, or a @llmkit/peft PeftModel of one (LoRA or IA3: only the adapter
   * trains, and with no `reference` the policy with adapters disabled is the reference).
   */
  policy: PolicyModel;
  /** Frozen reference for the KL term (needed when klCoefficient > 0, unless the policy has adapters). */
  reference?: CausalPolicy;
  /** Prompts to complete. */
  prompts: readonly string[];
  /** Scores a completion of a prompt (higher is better). */
  reward: RewardFunction;
  /** Tokenizer of the policy. */
  tokenizer: TextTokenizer;
  /** GRPO's options (group size, clip range, KL coefficient). */
  config?: Partial<GrpoConfig>;
  /** How completions are sampled. */
  sampling?: RolloutSampling;
  /** AdamW options (lr default 1e-5, weight decay 0) and gradient clipping (max norm 1). */
  optimizer?: OptimizerOptions;
  /** Steps (rollouts) to run in total (a resumed run continues up to it). */
  steps: number;
  /** Prompts per step (default 4). */
  batchSize?: number;
  /** Optimizer updates per rollout (GRPO's mu; default 1). */
  iterations?: number;
  /** Seed of the prompt order and of sampling (default 0). */
  seed?: number;
  /** Called after each step with its metrics (`loss`, `reward`, `reward/std`, `kl`, `ms`). */
  onStep?: (metrics: StepMetrics, rollout: { completions: string[]; rewards: number[] }) => void;
  /** Stops the run before the next update (an `aborted` error). */
  signal?: AbortSignal;
  /** Save (and resume from) checkpoints. */
  checkpoint?: CheckpointOptions;
}

/** What {@link trainGrpo} returns. */
export interface GrpoTrainerResult {
  history: StepMetrics[];
  step: number;
}

interface Adapters {
  disableAdapters(): unknown;
  enableAdapters(): unknown;
}

/** Token log-probs under the reference: a frozen copy, or the policy with adapters disabled. */
export function referenceTokenLogProbs(
  policy: CausalPolicy,
  reference: CausalPolicy | undefined,
  batch: CompletionBatch,
): Tensor {
  return noGrad(() => {
    if (reference) return batchTokenLogProbs(reference, batch);
    const adapters = policy as unknown as Partial<Adapters>;
    adapters.disableAdapters?.();
    try {
      return batchTokenLogProbs(policy, batch);
    } finally {
      adapters.enableAdapters?.();
    }
  });
}

/** Whether a reference is available for `policy` (a given one, or adapters to disable). */
export function hasReference(policy: CausalPolicy, reference: CausalPolicy | undefined): boolean {
  const adapters = policy as unknown as Partial<Adapters>;
  return (
    reference !== undefined ||
    (typeof adapters.disableAdapters === 'function' &&
      typeof adapters.enableAdapters === 'function')
  );
}

/**
 * Trains `policy` with GRPO against a reward function; returns per-step metrics.
 *
 * @example
 * ```ts
 * const reward = (_prompt: string, completion: string) => (completion.includes('good') ? 1 : 0);
 * const { history } = await trainGrpo({ policy, prompts, reward, tokenizer, steps: 50, config: { groupSize: 8, klCoefficient: 0 } });
 * ```
 */
export async function trainGrpo(options: GrpoTrainerOptions): Promise<GrpoTrainerResult> {
  const config = validateGrpoConfig(options.config);
  const { tokenizer, steps, batchSize = 4, iterations = 1, seed = 0 } = options;
  const policy = asCausalPolicy(options.policy, 'trainGrpo');
  checkCounts('trainGrpo', { steps, batchSize, iterations });
  const sampling = options.sampling ?? {};
  const maxNewTokens = sampling.maxNewTokens ?? 32;
  const promptIds = tokenizePrompts(
    'trainGrpo',
    options.prompts,
    tokenizer,
    policy.config.blockSize,
    maxNewTokens,
  );
  if (config.klCoefficient > 0 && !hasReference(policy, options.reference))
    throw new RlhfError(
      'invalid_config',
      `trainGrpo: klCoefficient ${config.klCoefficient} needs a reference model (pass reference: a frozen copy of the policy, or set klCoefficient 0)`,
    );
  const wasTraining = policy.training;
  policy.eval();
  const optimizer = makeOptimizer(policy.parameters(), options.optimizer);
  const maxGradNorm = options.optimizer?.maxGradNorm ?? 1;
  try {
    const resumed = await resumeFrom(options.checkpoint, policy, optimizer, 'grpo');
    const extra = { method: 'grpo', config, seed, batchSize, iterations };
    const history: StepMetrics[] = [];
    for (let step = resumed.step; step < steps; step++) {
      throwIfAborted(options.signal, 'trainGrpo');
      const started = performance.now();
      const indices = batchIndices(promptIds.length, batchSize, step, seed);
      const rollout = await sampleRollout(
        'trainGrpo',
        policy,
        tokenizer,
        indices.map((i) => options.prompts[i]),
        indices.map((i) => promptIds[i]),
        config.groupSize,
        sampling,
        seed * 1_000_003 + step * 104_729,
        options.reward,
      );
      const advantages = groupAdvantages(rollout.rewards, config.groupSize, config.epsilon);
      throwIfAborted(options.signal, 'trainGrpo');
      const batch = completionBatch(rollout.rows, policy.config.blockSize);
      const old = noGrad(() => batchTokenLogProbs(policy, batch));
      const reference =
        config.klCoefficient > 0
          ? referenceTokenLogProbs(policy, options.reference, batch)
          : undefined;
      const advantageTensor = fromValues(advantages, [advantages.length]);
      let loss = 0;
      let kl = 0;
      for (let iteration = 0; iteration < iterations; iteration++) {
        [loss, kl] = tidy(() => {
          const result = grpoLoss(
            {
              logProbs: batchTokenLogProbs(policy, batch),
              oldLogProbs: old,
              referenceLogProbs: reference,
              advantages: advantageTensor,
              mask: batch.completionMask,
            },
            config,
          );
          const value = result.loss.item();
          if (!Number.isFinite(value))
            throw new RlhfError(
              'invalid_data',
              `trainGrpo: step ${step + 1}: the loss is ${value}; no update was made`,
            );
          policy.zeroGrad();
          result.loss.backward();
          if (maxGradNorm > 0) clipGradNorm(policy.parameters(), maxGradNorm);
          optimizer.step();
          policy.zeroGrad();
          return [value, result.kl ? result.kl.item() : 0];
        });
      }
      for (const t of [old, reference, advantageTensor, batch.labels, batch.completionMask])
        t?.dispose();
      const n = rollout.rewards.length;
      const meanReward = rollout.rewards.reduce((a, b) => a + b, 0) / n;
      const std = Math.sqrt(rollout.rewards.reduce((a, b) => a + (b - meanReward) ** 2, 0) / n);
      const metrics: StepMetrics = {
        step: step + 1,
        loss,
        reward: meanReward,
        'reward/std': std,
        kl,
        completionLength: batch.completionLengths.reduce((a, b) => a + b, 0) / n,
        ms: performance.now() - started,
      };
      history.push(metrics);
      resumed.history.push([step + 1, loss, null]);
      options.onStep?.(metrics, { completions: rollout.completions, rewards: rollout.rewards });
      await maybeSave(
        options.checkpoint,
        policy,
        optimizer,
        step + 1,
        steps,
        resumed.history,
        extra,
      );
    }
    return { history, step: Math.max(steps, resumed.step) };
  } finally {
    policy.train(wasTraining);
  }
}
