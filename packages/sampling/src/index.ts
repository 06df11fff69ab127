// @llmkit/sampling: logits processors, greedy / multinomial / beam search, stopping rules and a
// streaming generation loop, on plain Float32Array logits (no tensor engine).
export { Candidates } from './candidates.js';
export {
  type ResolvedSamplerConfig,
  type SamplerConfig,
  samplerDefaults,
  validateSamplerConfig,
} from './config.js';
export { SamplingError, type SamplingErrorCode } from './errors.js';
export {
  type GenerationConfig,
  type GenerationOutput,
  generate,
  streamTokens,
  type TokenEvent,
  validateGenerationConfig,
} from './generate.js';
export { FrequencyPenaltyProcessor } from './processors/frequency-penalty.js';
export { LogitBiasProcessor } from './processors/logit-bias.js';
export { MinPWarper } from './processors/min-p.js';
export { NoRepeatNgramProcessor } from './processors/no-repeat-ngram.js';
export { RepetitionPenaltyProcessor } from './processors/repetition-penalty.js';
export { TemperatureWarper } from './processors/temperature.js';
export { TopKWarper } from './processors/top-k.js';
export { TopPWarper } from './processors/top-p.js';
export { TypicalPWarper } from './processors/typical-p.js';
export { type LogitsProcessor, type LogitsWarper, warpLogits } from './processors/types.js';
export { createRandom, type RandomSource, Xoshiro128 } from './random.js';
export {
  buildProcessors,
  buildWarpers,
  createSampler,
  type Sampler,
  type SamplerExtensions,
} from './sampler.js';
export type { StepContext, StepFunction, StepResult } from './step.js';
export { stopStringRule, type TokenDecoder } from './stopping.js';
export {
  type BeamHypothesis,
  type BeamSearchOptions,
  beamSearch,
  type FinishReason,
} from './strategies/beam-search.js';
export { argmax } from './strategies/greedy.js';
export { drawToken } from './strategies/multinomial.js';
