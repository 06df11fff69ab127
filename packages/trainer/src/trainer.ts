import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AdamW,
  clipGradNorm,
  defaultGenerator,
  keep,
  type Module,
  noGrad,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import { loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { resolveConfig, type TrainerConfig, type TrainerConfigInput } from './config.js';
import type { TrainingData } from './data/source.js';
import { TrainerError } from './errors.js';
import { lossCurveSvg } from './loss-curve.js';
import type { ProgressReporter } from './progress.js';
import { learningRateAt } from './schedule.js';

/** Computes the scalar loss of a batch (mean over its tokens or examples). */
export type LossFunction<Batch> = (model: Module, batch: Batch) => Tensor;

/** Extra evaluation metrics of a batch, such as `{ correct, count }` for accuracy. */
export type MetricsFunction<Batch> = (
  model: Module,
  batch: Batch,
) => Promise<Record<string, number>>;

/** What {@link Trainer.evaluate} measures. */
export interface Evaluation {
  /** Mean validation loss. */
  loss: number;
  /** `exp(loss)`. */
  perplexity: number;
  /** Sums of the metrics function's values over the batches (e.g. correct and count). */
  metrics: Record<string, number>;
}

/** The outcome of {@link Trainer.train}. */
export interface TrainResult {
  /** Steps completed (including those before a resume). */
  steps: number;
  /** Training loss of the last step. */
  trainLoss: number;
  /** Validation loss of the last evaluation (null if none ran). */
  validationLoss: number | null;
  /** Median milliseconds per optimizer step over steady-state steps (evaluation excluded). */
  msPerStep: number;
  /** Training tokens per second over the run (evaluation excluded). */
  tokensPerSecond: number;
  /** True when early stopping ended the run. */
  stoppedEarly: boolean;
  /** [step, train loss, validation loss or null] for every step. */
  history: [number, number, number | null][];
}

/** Everything a {@link Trainer} needs. */
export interface TrainerOptions<Batch> {
  /** The model; any Module. */
  model: Module;
  /** Loss of a batch. */
  loss: LossFunction<Batch>;
  /** Where batches come from. */
  data: TrainingData<Batch>;
  /** How to train; `maxSteps` is required, everything else has a default. */
  config: TrainerConfigInput;
  /** Tokens (or examples) in a batch, for throughput figures (default 0). */
  tokensIn?: (batch: Batch) => number;
  /** Extra evaluation metrics. */
  metrics?: MetricsFunction<Batch>;
  /** Progress output (none by default). */
  progress?: ProgressReporter;
  /** Details stored with every checkpoint (preset, tokenizer...). */
  extra?: Record<string, unknown>;
}

/**
 * A training loop for any Module and loss: AdamW with weight decay on matrices only, a
 * warmup-then-decay schedule, gradient accumulation and clipping, periodic evaluation, early
 * stopping, atomic checkpoints that resume exactly, and a loss curve SVG beside them. A
 * non-finite loss stops the run with a clear error and leaves the last good checkpoint alone.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, loss: causalLanguageModelLoss, data, config: { maxSteps: 2000 } });
 * const result = await trainer.train();
 * console.log(result.validationLoss);
 * ```
 */
export class Trainer<Batch> {
  /** The resolved configuration. */
  readonly config: TrainerConfig;
  /** The optimizer (AdamW; two groups: decayed matrices, undecayed vectors). */
  readonly optimizer: AdamW;
  private state: TrainerState;

  constructor(private readonly options: TrainerOptions<Batch>) {
    this.config = resolveConfig(options.config);
    // frozen parameters (requiresGrad false: a PEFT base model) get no optimizer state
    const parameters = options.model.parameters().filter((p) => p.requiresGrad);
    const decayed = parameters.filter((p) => p.rank >= 2);
    const notDecayed = parameters.filter((p) => p.rank < 2);
    const { betas, epsilon, weightDecay, schedule } = this.config;
    const groups = [
      { params: decayed, weightDecay },
      { params: notDecayed, weightDecay: 0 },
    ].filter((g) => g.params.length > 0);
    this.optimizer = new AdamW(groups, { lr: schedule.learningRate, betas, epsilon });
    this.state = {
      step: 0,
      data: null,
      bestValidationLoss: null,
      evaluationsWithoutImprovement: 0,
      history: [],
      extra: options.extra,
    };
  }

  /** Steps completed so far. */
  get step(): number {
    return this.state.step;
  }

  /**
   * Continues from the newest checkpoint in the configured folder, if there is one; returns
   * whether it did. Model weights, optimizer moments, data position and history are restored.
   */
  async resume(): Promise<boolean> {
    const dir = this.config.checkpoint?.dir;
    if (!dir) throw new TrainerError('invalid_config', 'resume: no checkpoint.dir in the config');
    try {
      this.state = await loadCheckpoint(dir, {
        model: this.options.model,
        optimizer: this.optimizer as never,
      });
    } catch (error) {
      if (error instanceof TrainerError && error.code === 'not_found') return false;
      throw error;
    }
    this.options.data.restore(this.state.data);
    if (this.state.rng) defaultGenerator.setState(this.state.rng);
    return true;
  }

  /** Mean loss (and metrics) over `batches` validation batches, without gradients. */
  async evaluate(batches = this.config.evalBatches): Promise<Evaluation> {
    const { model, data, loss, metrics } = this.options;
    const wasTraining = model.training;
    model.eval();
    let total = 0;
    const sums: Record<string, number> = {};
    try {
      for (let i = 0; i < batches; i++) {
        const batch = data.next('validation');
        const value = noGrad(() => tidy(() => loss(model, batch)));
        total += (await value.data())[0];
        value.dispose();
        if (metrics)
          for (const [k, v] of Object.entries(await noGrad(() => metrics(model, batch))))
            sums[k] = (sums[k] ?? 0) + v;
      }
    } finally {
      model.train(wasTraining);
    }
    const mean = total / batches;
    return { loss: mean, perplexity: Math.exp(mean), metrics: sums };
  }

  /** Runs the remaining steps; see {@link TrainResult}. */
  async train(): Promise<TrainResult> {
    const { model, data, loss, progress, tokensIn } = this.options;
    const {
      maxSteps,
      gradientAccumulationSteps: accumulation,
      maxGradNorm,
      evalInterval,
      schedule,
      earlyStopping,
    } = this.config;
    const stepTimes: number[] = [];
    let tokens = 0;
    let trainMilliseconds = 0;
    let lastLoss = Number.NaN;
    let lastValidation: number | null =
      this.state.history.findLast(([, , v]) => v !== null)?.[2] ?? null;
    let stoppedEarly = false;
    model.train();
    while (this.state.step < maxSteps && !stoppedEarly) {
      const started = performance.now();
      const learningRate = learningRateAt(schedule, this.state.step);
      for (const group of this.optimizer.paramGroups) group.options.lr = learningRate;
      let stepLoss = 0;
      let stepTokens = 0;
      for (let micro = 0; micro < accumulation; micro++) {
        const batch = data.next('train');
        stepTokens += tokensIn?.(batch) ?? 0;
        const value = tidy(() => {
          const l = loss(model, batch);
          (accumulation === 1 ? l : l.div(accumulation)).backward();
          return keep(l.detach());
        });
        stepLoss += (await value.data())[0] / accumulation;
        value.dispose();
      }
      if (!Number.isFinite(stepLoss)) {
        this.optimizer.zeroGrad();
        const kept = this.config.checkpoint
          ? ` The last good checkpoint in ${this.config.checkpoint.dir} is untouched.`
          : '';
        throw new TrainerError(
          'non_finite_loss',
          `training loss is ${stepLoss} at step ${this.state.step + 1}; stopped before updating the weights.${kept} Try a lower learning rate or check the data.`,
        );
      }
      if (maxGradNorm > 0) tidy(() => clipGradNorm(model.parameters(), maxGradNorm)).dispose();
      this.optimizer.step();
      this.optimizer.zeroGrad();
      this.state.step++;
      const milliseconds = performance.now() - started;
      stepTimes.push(milliseconds);
      trainMilliseconds += milliseconds;
      tokens += stepTokens;
      lastLoss = stepLoss;
      this.state.history.push([this.state.step, stepLoss, null]);
      const tokensPerSecond = stepTokens / (milliseconds / 1000);
      progress?.update({
        step: this.state.step,
        maxSteps,
        loss: stepLoss,
        learningRate,
        tokensPerSecond,
        milliseconds,
      });

      const last = this.state.step === maxSteps;
      if (this.state.step % evalInterval === 0 || last) {
        const evaluation = await this.evaluate();
        lastValidation = evaluation.loss;
        this.state.history[this.state.history.length - 1][2] = evaluation.loss;
        progress?.update({
          step: this.state.step,
          maxSteps,
          loss: stepLoss,
          learningRate,
          tokensPerSecond,
          milliseconds,
          validationLoss: evaluation.loss,
        });
        const best = this.state.bestValidationLoss;
        if (best === null || evaluation.loss < best - (earlyStopping?.minDelta ?? 0)) {
          this.state.bestValidationLoss = evaluation.loss;
          this.state.evaluationsWithoutImprovement = 0;
        } else {
          this.state.evaluationsWithoutImprovement++;
          if (earlyStopping && this.state.evaluationsWithoutImprovement >= earlyStopping.patience)
            stoppedEarly = true;
        }
      }
      const interval = this.config.checkpoint?.interval ?? evalInterval;
      if (this.config.checkpoint && (this.state.step % interval === 0 || last || stoppedEarly))
        await this.checkpoint();
    }
    progress?.finish();
    // steady state: skip the first steps (JIT warm-up, allocator growth)
    const steady = stepTimes
      .slice(Math.min(5, Math.floor(stepTimes.length / 2)))
      .sort((a, b) => a - b);
    return {
      steps: this.state.step,
      trainLoss: lastLoss,
      validationLoss: lastValidation,
      msPerStep: steady.length ? steady[Math.floor(steady.length / 2)] : Number.NaN,
      tokensPerSecond: trainMilliseconds > 0 ? tokens / (trainMilliseconds / 1000) : 0,
      stoppedEarly,
      history: this.state.history,
    };
  }

  /** Writes a checkpoint of the current step now, and the loss curve beside it. */
  async checkpoint(): Promise<string> {
    const settings = this.config.checkpoint;
    if (!settings)
      throw new TrainerError('invalid_config', 'checkpoint: no checkpoint.dir in the config');
    this.state.data = this.options.data.state();
    this.state.rng = defaultGenerator.getState();
    const folder = await saveCheckpoint(settings.dir, {
      model: this.options.model,
      optimizer: this.optimizer as never,
      state: this.state,
      keepLast: settings.keepLast,
    });
    await writeFile(
      join(settings.dir, 'loss.svg'),
      lossCurveSvg(this.state.history, `loss, step ${this.state.step}`),
    );
    return folder;
  }
}
