import { Candidates } from './candidates.js';
import { type ResolvedSamplerConfig, type SamplerConfig, validateSamplerConfig } from './config.js';
import { SamplingError } from './errors.js';
import { FrequencyPenaltyProcessor } from './processors/frequency-penalty.js';
import { LogitBiasProcessor } from './processors/logit-bias.js';
import { MinPWarper } from './processors/min-p.js';
import { NoRepeatNgramProcessor } from './processors/no-repeat-ngram.js';
import { RepetitionPenaltyProcessor } from './processors/repetition-penalty.js';
import { TemperatureWarper } from './processors/temperature.js';
import { TopKWarper } from './processors/top-k.js';
import { TopPWarper } from './processors/top-p.js';
import { TypicalPWarper } from './processors/typical-p.js';
import type { LogitsProcessor, LogitsWarper } from './processors/types.js';
import { createRandom, type RandomSource } from './random.js';
import { argmax } from './strategies/greedy.js';
import { drawToken } from './strategies/multinomial.js';
import { warmUp } from './warm-up.js';

/** Extra pieces for {@link createSampler}, beside those its config builds. */
export interface SamplerExtensions {
  /** Run after the built-in processors, before the warpers (as Hugging Face merges custom ones). */
  processors?: readonly LogitsProcessor[];
  /** Run after the built-in warpers; only when sampling. */
  warpers?: readonly LogitsWarper[];
  /** Replace the seeded xoshiro128** generator (then `seed` is unused). */
  random?: RandomSource;
}

/** Picks next tokens from logits; made by {@link createSampler}. */
export interface Sampler {
  /** The validated config with defaults filled in. */
  readonly config: Readonly<ResolvedSamplerConfig>;
  /** `true` when {@link Sampler.sample} takes the argmax (doSample false, or temperature 0). */
  readonly greedy: boolean;
  /** The processors, in the order they run. */
  readonly processors: readonly LogitsProcessor[];
  /** The warpers, in the order they run (unused when greedy). */
  readonly warpers: readonly LogitsWarper[];
  /**
   * The next token for one distribution. `logits` is read, never written; `previousTokens` (the
   * prompt and the tokens generated so far) feed the penalties. Allocates nothing per call once
   * its scratch has grown to the vocabulary size.
   */
  sample(logits: Float32Array, previousTokens?: ArrayLike<number>): number;
  /**
   * The processed scores (processors applied, warpers not): `logits` itself when there are no
   * processors, else a scratch array reused by the next call.
   */
  process(logits: Float32Array, previousTokens?: ArrayLike<number>): Float32Array;
  /**
   * The exact distribution {@link Sampler.sample} draws from: token ids ascending and their
   * probabilities (a single token with probability 1 when greedy). Allocates; for tests and
   * inspection.
   */
  distribution(
    logits: Float32Array,
    previousTokens?: ArrayLike<number>,
  ): { tokenIds: Int32Array; probabilities: Float64Array };
}

/** The processors a config asks for, in Hugging Face's order (custom ones are not included). */
export function buildProcessors(config: ResolvedSamplerConfig): LogitsProcessor[] {
  const processors: LogitsProcessor[] = [];
  if (config.logitBias.size > 0) processors.push(new LogitBiasProcessor(config.logitBias));
  if (config.repetitionPenalty !== 1) {
    processors.push(new RepetitionPenaltyProcessor(config.repetitionPenalty));
  }
  if (config.frequencyPenalty !== 0 || config.presencePenalty !== 0) {
    processors.push(new FrequencyPenaltyProcessor(config.frequencyPenalty, config.presencePenalty));
  }
  if (config.noRepeatNgramSize > 0) {
    processors.push(new NoRepeatNgramProcessor(config.noRepeatNgramSize));
  }
  return processors;
}

/** The warpers a config asks for, in Hugging Face's order: temperature, top-k, top-p, min-p, typical-p. */
export function buildWarpers(config: ResolvedSamplerConfig): LogitsWarper[] {
  const warpers: LogitsWarper[] = [];
  if (config.temperature !== 1 && config.temperature !== 0) {
    warpers.push(new TemperatureWarper(config.temperature));
  }
  if (config.topK > 0) warpers.push(new TopKWarper(config.topK));
  if (config.topP < 1) warpers.push(new TopPWarper(config.topP));
  if (config.minP > 0) warpers.push(new MinPWarper(config.minP));
  if (config.typicalP < 1) warpers.push(new TypicalPWarper(config.typicalP));
  return warpers;
}

/**
 * Makes a sampler: validates the config up front (each error names its field), builds the
 * processors and warpers in Hugging Face's order, and seeds its own generator.
 *
 * @example
 * ```ts
 * const sampler = createSampler({ doSample: true, temperature: 0.8, topK: 50, topP: 0.9, seed: 1 });
 * const token = sampler.sample(logits, previousTokens);
 * createSampler().sample(Float32Array.of(1, 3, 2)); // 1 (greedy by default)
 * ```
 */
export function createSampler(
  config: SamplerConfig = {},
  extensions: SamplerExtensions = {},
): Sampler {
  const resolved = validateSamplerConfig(config);
  warmUp(createSampler);
  const processors = [...buildProcessors(resolved), ...(extensions.processors ?? [])];
  const warpers = [...buildWarpers(resolved), ...(extensions.warpers ?? [])];
  const random = extensions.random ?? createRandom(resolved.seed);
  const greedy = !resolved.doSample || resolved.temperature === 0;
  const candidates = new Candidates();
  let scratch = new Float32Array(0);
  const none: number[] = [];

  const process = (logits: Float32Array, previousTokens: ArrayLike<number> = none) => {
    if (!(logits instanceof Float32Array)) {
      throw new SamplingError(
        'invalid_logits',
        `sample: logits must be a Float32Array, got ${Object.prototype.toString.call(logits)}`,
      );
    }
    if (processors.length === 0) return logits;
    if (scratch.length !== logits.length) scratch = new Float32Array(logits.length);
    scratch.set(logits);
    for (const processor of processors) processor.process(scratch, previousTokens);
    return scratch;
  };

  const warp = (logits: Float32Array, previousTokens?: ArrayLike<number>) => {
    candidates.reset(process(logits, previousTokens));
    for (const warper of warpers) warper.warp(candidates);
    return candidates;
  };

  return {
    config: resolved,
    greedy,
    processors,
    warpers,
    process,
    sample(logits, previousTokens) {
      if (greedy) return argmax(process(logits, previousTokens));
      return drawToken(warp(logits, previousTokens), random);
    },
    distribution(logits, previousTokens) {
      if (greedy) {
        return {
          tokenIds: Int32Array.of(argmax(process(logits, previousTokens))),
          probabilities: Float64Array.of(1),
        };
      }
      return warp(logits, previousTokens).distribution();
    },
  };
}
