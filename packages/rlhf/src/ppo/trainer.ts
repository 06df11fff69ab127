// PPO over a causal language model (Ziegler et al. 2019; Ouyang et al. 2022). Each step:
//   1. samples one completion per prompt of a batch with the current policy and scores it;
//   2. computes, without gradients, the sampling policy's token log-probs, the reference's and
//      the value head's values; per-token rewards are the KL penalty -beta (log pi - log pi_ref)
//      with the score added on the last token (klPenalizedRewards); GAE gives advantages and
//      returns (whitened over the batch's tokens when whitenAdvantages);
//   3. runs `epochs` passes of `minibatches` minibatches of the clipped policy loss plus
//      valueCoefficient times the clipped value loss;
//   4. updates the adaptive KL coefficient from the batch's mean sequence KL.
// The value head, as TRL's AutoModelForCausalLMWithValueHead: a Linear(nEmbd, 1) over the
// policy's last hidden state (GPT.forward with returnHiddenState: the final norm's output, what
// the output head reads), one value per position. It shares the policy's body, so the value
// loss's gradients reach the trunk too. The head is saved in checkpoints beside the policy
// (keys `policy.*` and `value_head.*`).
// Dropout is off during the run (eval mode). The reference is `reference` (a frozen copy) or, for
// a @llmkit/peft model, the policy with adapters disabled.
import {
  add,
  clipGradNorm,
  fromValues,
  Generator,
  init,
  Linear,
  Module,
  mul,
  noGrad,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';
import { asCausalPolicy, type PolicyModel } from '../policy.js';
import { hasReference, referenceTokenLogProbs } from '../grpo/trainer.js';
import { tokenLogProbs } from '../log-probs.js';
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
  type CausalPolicy,
  type CompletionBatch,
  completionBatch,
  type TextTokenizer,
} from '../sequences.js';
import { type PpoConfig, validatePpoConfig } from './config.js';
import {
  AdaptiveKlController,
  generalizedAdvantages,
  klPenalizedRewards,
  ppoPolicyLoss,
  ppoValueLoss,
} from './loss.js';

/**
 * A policy and its scalar value head as one module (what PPO checkpoints hold).
 *
 * @example
 * ```ts
 * const model = new PolicyWithValueHead(gpt);
 * const { logits, values } = model.forwardWithValues(ids, mask); // [B, T, V], [B, T]
 * ```
 */
export class PolicyWithValueHead extends Module {
  /** The language model. */
  readonly policy: CausalPolicy;
  /** Linear(nEmbd, 1) over the last hidden state, zero-initialised (values start at 0). */
  readonly value_head: Linear;

  constructor(policy: CausalPolicy) {
    super();
    const width = policy.config.nEmbd;
    if (!Number.isInteger(width) || (width as number) < 1)
      throw new RlhfError(
        'invalid_argument',
        `PolicyWithValueHead: the policy's config.nEmbd is ${width}; expected the hidden width (a positive integer) for the value head`,
      );
    this.policy = this.addModule('policy', policy);
    this.value_head = this.addModule('value_head', new Linear(width as number, 1));
    init.zeros(this.value_head.weight);
    if (this.value_head.bias) init.zeros(this.value_head.bias);
  }

  /** Logits `[B, T, V]` and values `[B, T]` (the head over the last hidden state) of padded ids. */
  forwardWithValues(
    inputIds: number[][],
    attentionMask: number[][],
  ): { logits: Tensor; values: Tensor } {
    const { logits, hiddenState } = this.policy.forward(inputIds, {
      attentionMask,
      returnHiddenState: true,
    });
    if (!hiddenState)
      throw new RlhfError(
        'unsupported',
        'PolicyWithValueHead: the policy returned no hiddenState for returnHiddenState: true; expected a model whose forward returns its last hidden state (as GPT does)',
      );
    const [B, T] = hiddenState.shape;
    return { logits, values: this.value_head.forward(hiddenState).reshape([B, T]) };
  }
}

/** Options of {@link trainPpo}. */
export interface PpoTrainerOptions {
  /**
   * The model to train: a GPT, or a @llmkit/peft PeftModel of one (LoRA or IA3: only the adapter
   * trains, and with no `reference` the policy with adapters disabled is the reference).
   */
  policy: PolicyModel;
  /** Frozen reference of the KL penalty (required unless the policy has adapters). */
  reference?: CausalPolicy;
  /** Prompts to complete. */
  prompts: readonly string[];
  /** Scores a completion of a prompt (higher is better). */
  reward: RewardFunction;
  /** Tokenizer of the policy. */
  tokenizer: TextTokenizer;
  /** PPO's options (KL controller, GAE, clip ranges, epochs, minibatches). */
  config?: Partial<PpoConfig>;
  /** How completions are sampled. */
  sampling?: RolloutSampling;
  /** AdamW options (lr default 1e-5, weight decay 0) and gradient clipping (max norm 1). */
  optimizer?: OptimizerOptions;
  /** Steps (rollouts) to run in total (a resumed run continues up to it). */
  steps: number;
  /** Prompts (one completion each) per rollout (default 8). */
  batchSize?: number;
  /** Seed of the prompt order, sampling and minibatch order (default 0). */
  seed?: number;
  /** Called after each step (`loss`, `policyLoss`, `valueLoss`, `reward`, `kl`, `klCoefficient`, `ms`). */
  onStep?: (metrics: StepMetrics, rollout: { completions: string[]; rewards: number[] }) => void;
  /** Stops the run before the next update (an `aborted` error). */
  signal?: AbortSignal;
  /** Save (and resume from) checkpoints (policy, value head, optimizer, KL coefficient, rng). */
  checkpoint?: CheckpointOptions;
}

/** What {@link trainPpo} returns. */
export interface PpoTrainerResult {
  history: StepMetrics[];
  step: number;
  /** The policy with its trained value head. */
  model: PolicyWithValueHead;
  /** The KL coefficient reached. */
  klCoefficient: number;
}

/** Rows of `values` (flat [B, T]) restricted to the first `columns` columns of the given rows. */
function rowsOf(values: Float32Array, T: number, rows: number[], columns: number): Tensor {
  const out = new Float32Array(rows.length * columns);
  for (const [i, row] of rows.entries())
    out.set(values.subarray(row * T, row * T + columns), i * columns);
  return fromValues(out, [rows.length, columns]);
}

/**
 * Trains `policy` (and a value head) with PPO against a reward function and a KL penalty.
 *
 * @example
 * ```ts
 * const { history } = await trainPpo({ policy, reference: frozenCopy, prompts, reward, tokenizer, steps: 50 });
 * console.log(history.at(-1)?.reward, history.at(-1)?.kl);
 * ```
 */
export async function trainPpo(options: PpoTrainerOptions): Promise<PpoTrainerResult> {
  const config = validatePpoConfig(options.config);
  const { tokenizer, steps, batchSize = 8, seed = 0 } = options;
  const policy = asCausalPolicy(options.policy, 'trainPpo');
  checkCounts('trainPpo', { steps, batchSize });
  if (config.minibatches > batchSize)
    throw new RlhfError(
      'invalid_config',
      `trainPpo: ${config.minibatches} minibatches of a batch of ${batchSize}; expected at most ${batchSize}`,
    );
  const sampling = options.sampling ?? {};
  const promptIds = tokenizePrompts(
    'trainPpo',
    options.prompts,
    tokenizer,
    policy.config.blockSize,
    sampling.maxNewTokens ?? 32,
  );
  if (!hasReference(policy, options.reference))
    throw new RlhfError(
      'invalid_config',
      'trainPpo: the KL penalty needs a reference model (pass reference: a frozen copy of the policy)',
    );
  const model = new PolicyWithValueHead(policy);
  const wasTraining = policy.training;
  model.eval();
  const optimizer = makeOptimizer(model.parameters(), options.optimizer);
  const maxGradNorm = options.optimizer?.maxGradNorm ?? 1;
  const controller = new AdaptiveKlController(
    config.initKlCoefficient,
    config.targetKl,
    config.klHorizon,
  );
  try {
    const resumed = await resumeFrom(options.checkpoint, model, optimizer, 'ppo');
    if (typeof resumed.extra.klCoefficient === 'number')
      controller.value = resumed.extra.klCoefficient;
    const history: StepMetrics[] = [];
    for (let step = resumed.step; step < steps; step++) {
      throwIfAborted(options.signal, 'trainPpo');
      const started = performance.now();
      const indices = batchIndices(promptIds.length, batchSize, step, seed);
      const rollout = await sampleRollout(
        'trainPpo',
        policy,
        tokenizer,
        indices.map((i) => options.prompts[i]),
        indices.map((i) => promptIds[i]),
        1,
        sampling,
        seed * 1_000_003 + step * 104_729,
        options.reward,
      );
      throwIfAborted(options.signal, 'trainPpo');
      const batch: CompletionBatch = completionBatch(rollout.rows, policy.config.blockSize);
      const B = rollout.rows.length;
      const T = batch.inputIds[0].length;
      // 2. the rollout's log-probs, reference log-probs and values, as flat [B, T] arrays
      const [old, reference, oldValues] = tidy(() => {
        const out = noGrad(() => model.forwardWithValues(batch.inputIds, batch.attentionMask));
        const lp = noGrad(() => tokenLogProbs(out.logits, batch.labels));
        const ref = referenceTokenLogProbs(policy, options.reference, batch);
        return [lp, ref, out.values].map((t) => Float32Array.from(t.dataSync() as Float32Array));
      });
      const mask = batch.completionMask.dataSync() as Float32Array;
      const advantages = new Float32Array(B * T);
      const returns = new Float32Array(B * T);
      let klTotal = 0;
      for (let b = 0; b < B; b++) {
        const positions: number[] = [];
        for (let t = 0; t < T; t++) if (mask[b * T + t] === 1) positions.push(b * T + t);
        const lp = positions.map((p) => old[p]);
        const ref = positions.map((p) => reference[p]);
        klTotal += lp.reduce((a, x, k) => a + x - ref[k], 0);
        const rewards = klPenalizedRewards(rollout.rewards[b], lp, ref, controller.value);
        const gae = generalizedAdvantages(
          rewards,
          positions.map((p) => oldValues[p]),
          config.gamma,
          config.lambda,
        );
        positions.forEach((p, k) => {
          advantages[p] = gae.advantages[k];
          returns[p] = gae.returns[k];
        });
      }
      if (config.whitenAdvantages) {
        let n = 0;
        let sum = 0;
        for (let i = 0; i < mask.length; i++)
          if (mask[i]) {
            n++;
            sum += advantages[i];
          }
        const m = sum / n;
        let squares = 0;
        for (let i = 0; i < mask.length; i++) if (mask[i]) squares += (advantages[i] - m) ** 2;
        const std = Math.sqrt(squares / Math.max(1, n - 1));
        for (let i = 0; i < mask.length; i++)
          advantages[i] = mask[i] ? (advantages[i] - m) / (std + 1e-8) : 0;
      }
      const klCoefficient = controller.value;
      // 3. epochs of minibatches
      const order = new Generator(seed * 1_000_003 + step);
      let policyLoss = 0;
      let valueLoss = 0;
      for (let epoch = 0; epoch < config.epochs; epoch++) {
        const rows = Array.from({ length: B }, (_, i) => i);
        for (let i = B - 1; i > 0; i--) {
          const j = order.nextInt(0, i + 1);
          [rows[i], rows[j]] = [rows[j], rows[i]];
        }
        for (let k = 0; k < config.minibatches; k++) {
          const chosen = rows.filter((_, i) => i % config.minibatches === k);
          const mini = completionBatch(
            chosen.map((r) => rollout.rows[r]),
            policy.config.blockSize,
          );
          const Tm = mini.inputIds[0].length;
          [policyLoss, valueLoss] = tidy(() => {
            const out = model.forwardWithValues(mini.inputIds, mini.attentionMask);
            const lp = tokenLogProbs(out.logits, mini.labels);
            const pl = ppoPolicyLoss(
              lp,
              rowsOf(old, T, chosen, Tm),
              rowsOf(advantages, T, chosen, Tm),
              config.clipRange,
              mini.completionMask,
            );
            const vl = ppoValueLoss(
              out.values,
              rowsOf(oldValues, T, chosen, Tm),
              rowsOf(returns, T, chosen, Tm),
              config.clipRangeValue,
              mini.completionMask,
            );
            const loss = add(pl, mul(vl, config.valueCoefficient));
            const value = loss.item();
            if (!Number.isFinite(value))
              throw new RlhfError(
                'invalid_data',
                `trainPpo: step ${step + 1}: the loss is ${value}; no update was made`,
              );
            model.zeroGrad();
            loss.backward();
            if (maxGradNorm > 0) clipGradNorm(model.parameters(), maxGradNorm);
            optimizer.step();
            model.zeroGrad();
            return [pl.item(), vl.item()];
          });
          mini.labels.dispose();
          mini.completionMask.dispose();
        }
      }
      batch.labels.dispose();
      batch.completionMask.dispose();
      // 4. the adaptive KL coefficient follows the batch's mean sequence KL
      const kl = klTotal / B;
      if (config.adaptiveKl) controller.update(kl, B);
      const meanReward = rollout.rewards.reduce((a, b) => a + b, 0) / B;
      const metrics: StepMetrics = {
        step: step + 1,
        loss: policyLoss + config.valueCoefficient * valueLoss,
        policyLoss,
        valueLoss,
        reward: meanReward,
        kl,
        klCoefficient,
        ms: performance.now() - started,
      };
      history.push(metrics);
      resumed.history.push([step + 1, metrics.loss, null]);
      options.onStep?.(metrics, { completions: rollout.completions, rewards: rollout.rewards });
      const extra = { method: 'ppo', config, seed, batchSize, klCoefficient: controller.value };
      await maybeSave(
        options.checkpoint,
        model,
        optimizer,
        step + 1,
        steps,
        resumed.history,
        extra,
      );
    }
    return { history, step: Math.max(steps, resumed.step), model, klCoefficient: controller.value };
  } finally {
    policy.train(wasTraining);
  }
}
