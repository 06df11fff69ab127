// Reward models and reward functions.
//  - trainRewardModel: a transformer with a scalar head (for example @llmkit/transformer's
//    EncoderForSequenceClassification with numLabels 1: BERT-style, the pooled first token through
//    a Linear to one logit) trained on preference pairs with the Bradley-Terry loss
//    -log sigmoid(r(prompt + chosen) - r(prompt + rejected) - margin) (reward/loss.ts), with the
//    held-out pair accuracy (the share of pairs whose chosen text scores higher).
//  - scalarReward / classifierReward: wrap such a model (or any classifier + tokenizer) as a
//    RewardFunction for trainGrpo and trainPpo: the scalar score, or the probability of the
//    positive label (for example "positive" of a sentiment classifier).
// Texts longer than the model's blockSize keep their first blockSize tokens (the pooled token is
// the first one). Rows are right-padded with id 0 and masked.
import {
  clipGradNorm,
  type Module,
  narrow,
  noGrad,
  softmax,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';
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
import type { PreferencePair } from '../dpo/trainer.js';
import type { TextTokenizer } from '../sequences.js';
import { bradleyTerryLoss, type RewardFunction } from './loss.js';

/** A sequence classifier: logits `[B, labels]` of padded ids (1 label for a scalar reward model). */
export interface SequenceClassifier extends Module {
  /** Class logits `[B, numLabels]`. */
  forward(
    inputIds: readonly (readonly number[])[],
    options?: { attentionMask?: readonly (readonly number[])[] },
  ): { logits: Tensor };
}

/** The context length: `config.blockSize`, or its encoder's (`bert.config.blockSize`). */
function maxLengthOf(model: SequenceClassifier): number {
  const m = model as {
    config?: { blockSize?: number };
    bert?: { config?: { blockSize?: number } };
  };
  return m.config?.blockSize ?? m.bert?.config?.blockSize ?? Number.POSITIVE_INFINITY;
}

/** Logits `[B, labels]` of texts (right-padded, truncated to blockSize). */
function classify(
  model: SequenceClassifier,
  tokenizer: TextTokenizer,
  texts: readonly string[],
): Tensor {
  const rows = texts.map((text) => tokenizer.encode(text).slice(0, maxLengthOf(model)));
  for (const [i, row] of rows.entries())
    if (row.length === 0)
      throw new RlhfError(
        'invalid_data',
        `reward model: text ${i} is empty after tokenizing; expected at least one token`,
      );
  const T = Math.max(...rows.map((row) => row.length));
  const inputIds = rows.map((row) => [...row, ...new Array(T - row.length).fill(0)]);
  const attentionMask = rows.map((row) => [
    ...new Array(row.length).fill(1),
    ...new Array(T - row.length).fill(0),
  ]);
  return model.forward(inputIds, { attentionMask }).logits;
}

/** Scalar scores [B] of a model with one output logit. */
function scores(
  model: SequenceClassifier,
  tokenizer: TextTokenizer,
  texts: readonly string[],
): Tensor {
  const logits = classify(model, tokenizer, texts);
  if (logits.rank !== 2 || logits.shape[1] !== 1)
    throw new RlhfError(
      'invalid_argument',
      `reward model: logits have shape [${logits.shape}], expected [B, 1] (a scalar head: numLabels 1)`,
    );
  return logits.reshape([texts.length]);
}

/**
 * The share of `pairs` whose chosen text scores higher than the rejected one.
 *
 * @example
 * ```ts
 * pairAccuracy(rewardModel, tokenizer, heldOut); // 0.85
 * ```
 */
export function pairAccuracy(
  model: SequenceClassifier,
  tokenizer: TextTokenizer,
  pairs: readonly PreferencePair[],
  batchSize = 16,
): number {
  let wins = 0;
  for (let start = 0; start < pairs.length; start += batchSize) {
    const batch = pairs.slice(start, start + batchSize);
    const values = tidy(() =>
      noGrad(() =>
        Array.from(
          scores(model, tokenizer, [
            ...batch.map((p) => p.prompt + p.chosen),
            ...batch.map((p) => p.prompt + p.rejected),
          ]).dataSync() as Float32Array,
        ),
      ),
    );
    for (let i = 0; i < batch.length; i++) if (values[i] > values[i + batch.length]) wins++;
  }
  return wins / pairs.length;
}

/** Options of {@link trainRewardModel}. */
export interface RewardTrainerOptions {
  /** A scalar-headed model, e.g. `new EncoderForSequenceClassification(config, 1)`. */
  model: SequenceClassifier;
  tokenizer: TextTokenizer;
  /** Training pairs (`prompt + chosen` should score above `prompt + rejected`). */
  pairs: readonly PreferencePair[];
  /** Held-out pairs for the accuracy reported at the end (and every `evalEvery` steps). */
  evalPairs?: readonly PreferencePair[];
  /** Steps between held-out evaluations (default: only at the end). */
  evalEvery?: number;
  /** Llama 2's margin in the Bradley-Terry loss (default 0). */
  margin?: number;
  /** AdamW options (lr default 1e-5, weight decay 0) and gradient clipping (max norm 1). */
  optimizer?: OptimizerOptions;
  steps: number;
  /** Pairs per step (default 8). */
  batchSize?: number;
  /** Seed of the batch order (default 0). */
  seed?: number;
  /** Called after each step (`loss`, `accuracy` of the batch, `evalAccuracy` when evaluated, `ms`). */
  onStep?: (metrics: StepMetrics) => void;
  signal?: AbortSignal;
  checkpoint?: CheckpointOptions;
}

/**
 * Trains a reward model on preference pairs with the Bradley-Terry loss; returns the history,
 * the held-out pair accuracy and the model as a {@link RewardFunction}.
 *
 * @example
 * ```ts
 * const model = new EncoderForSequenceClassification({ vocabSize: 65, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 32 }, 1);
 * const { evalAccuracy, reward } = await trainRewardModel({ model, tokenizer, pairs, evalPairs, steps: 200 });
 * ```
 */
export async function trainRewardModel(options: RewardTrainerOptions): Promise<{
  history: StepMetrics[];
  step: number;
  evalAccuracy: number | null;
  reward: RewardFunction;
}> {
  const { model, tokenizer, steps, batchSize = 8, seed = 0, margin = 0 } = options;
  checkCounts('trainRewardModel', { steps, batchSize });
  if (options.pairs.length === 0)
    throw new RlhfError('invalid_data', 'trainRewardModel: no preference pairs');
  for (const [i, pair] of options.pairs.entries())
    if (pair.chosen === pair.rejected)
      throw new RlhfError(
        'invalid_data',
        `trainRewardModel: pair ${i}: chosen equals rejected; a pair must prefer one completion over a different one`,
      );
  const wasTraining = model.training;
  model.train();
  const optimizer = makeOptimizer(model.parameters(), options.optimizer);
  const maxGradNorm = options.optimizer?.maxGradNorm ?? 1;
  let evalAccuracy: number | null = null;
  const evaluate = () => {
    if (!options.evalPairs?.length) return null;
    model.eval();
    try {
      return pairAccuracy(model, tokenizer, options.evalPairs);
    } finally {
      model.train();
    }
  };
  try {
    const resumed = await resumeFrom(options.checkpoint, model, optimizer, 'reward-model');
    const history: StepMetrics[] = [];
    for (let step = resumed.step; step < steps; step++) {
      throwIfAborted(options.signal, 'trainRewardModel');
      const started = performance.now();
      const indices = batchIndices(
        options.pairs.length,
        Math.min(batchSize, options.pairs.length),
        step,
        seed,
      );
      const batch = indices.map((i) => options.pairs[i]);
      const B = batch.length;
      const [loss, accuracy] = tidy(() => {
        const all = scores(model, tokenizer, [
          ...batch.map((p) => p.prompt + p.chosen),
          ...batch.map((p) => p.prompt + p.rejected),
        ]);
        const chosen = narrow(all, 0, 0, B);
        const rejected = narrow(all, 0, B, B);
        const lossTensor = bradleyTerryLoss(chosen, rejected, margin);
        const value = lossTensor.item();
        if (!Number.isFinite(value))
          throw new RlhfError(
            'invalid_data',
            `trainRewardModel: step ${step + 1}: the loss is ${value}; no update was made`,
          );
        const c = chosen.dataSync() as Float32Array;
        const r = rejected.dataSync() as Float32Array;
        let wins = 0;
        for (let i = 0; i < B; i++) if (c[i] > r[i]) wins++;
        model.zeroGrad();
        lossTensor.backward();
        if (maxGradNorm > 0) clipGradNorm(model.parameters(), maxGradNorm);
        optimizer.step();
        model.zeroGrad();
        return [value, wins / B];
      });
      const metrics: StepMetrics = { step: step + 1, loss, accuracy, ms: 0 };
      const due =
        step + 1 === steps ||
        (options.evalEvery !== undefined && (step + 1) % options.evalEvery === 0);
      if (due) {
        evalAccuracy = evaluate();
        if (evalAccuracy !== null) metrics.evalAccuracy = evalAccuracy;
      }
      metrics.ms = performance.now() - started;
      history.push(metrics);
      resumed.history.push([step + 1, loss, null]);
      options.onStep?.(metrics);
      await maybeSave(options.checkpoint, model, optimizer, step + 1, steps, resumed.history, {
        method: 'reward-model',
        seed,
        batchSize,
        margin,
      });
    }
    if (evalAccuracy === null) evalAccuracy = evaluate();
    return {
      history,
      step: Math.max(steps, resumed.step),
      evalAccuracy,
      reward: scalarReward(model, tokenizer),
    };
  } finally {
    model.train(wasTraining);
  }
}

/**
 * A scalar-headed reward model as a {@link RewardFunction}: the score of `prompt + completion`.
 *
 * @example
 * ```ts
 * const reward = scalarReward(rewardModel, tokenizer);
 * await reward('The food was', ' lovely'); // 1.7
 * ```
 */
export function scalarReward(model: SequenceClassifier, tokenizer: TextTokenizer): RewardFunction {
  return (prompt, completion) =>
    tidy(() =>
      noGrad(() => (scores(model, tokenizer, [prompt + completion]).dataSync() as Float32Array)[0]),
    );
}

/**
 * A classifier (e.g. `EncoderForSequenceClassification` trained on sentiment) as a
 * {@link RewardFunction}: the probability of `positiveLabel` for the completion (or, with
 * `includePrompt`, for prompt + completion).
 *
 * @example
 * ```ts
 * const reward = classifierReward({ model: sentiment, tokenizer, positiveLabel: 1 });
 * await reward('The play was', ' wonderful'); // 0.93
 * ```
 */
export function classifierReward(options: {
  model: SequenceClassifier;
  tokenizer: TextTokenizer;
  positiveLabel?: number;
  includePrompt?: boolean;
}): RewardFunction {
  const { model, tokenizer, positiveLabel = 1, includePrompt = false } = options;
  return (prompt, completion) =>
    tidy(() =>
      noGrad(() => {
        const wasTraining = model.training;
        model.eval();
        try {
          const logits = classify(model, tokenizer, [
            includePrompt ? prompt + completion : completion,
          ]);
          const labels = logits.shape[1];
          if (!Number.isInteger(positiveLabel) || positiveLabel < 0 || positiveLabel >= labels)
            throw new RlhfError(
              'invalid_argument',
              `classifierReward: positiveLabel ${positiveLabel} is not a label of a ${labels}-label classifier`,
            );
          return (softmax(logits, -1).dataSync() as Float32Array)[positiveLabel];
        } finally {
          model.train(wasTraining);
        }
      }),
    );
}
