// @llmkit/rlhf: the public API. Each algorithm has config.ts (typed, validated options) and
// loss.ts (pure functions on tensors, citing its paper).
export { DPO_DEFAULTS, type DpoConfig, type DpoLossType, validateDpoConfig } from './dpo/config.js';
export { type DpoLossResult, dpoLoss, type PreferenceLogProbs } from './dpo/loss.js';
export {
  type DpoTrainerOptions,
  type DpoTrainerResult,
  type PreferencePair,
  trainDpo,
} from './dpo/trainer.js';
export { RlhfError } from './errors.js';
export { GRPO_DEFAULTS, type GrpoConfig, validateGrpoConfig } from './grpo/config.js';
export { type GrpoBatch, groupAdvantages, grpoLoss, k3Kl } from './grpo/loss.js';
export { type GrpoTrainerOptions, type GrpoTrainerResult, trainGrpo } from './grpo/trainer.js';
export { logSigmoid, sequenceLogProbs, tokenLogProbs } from './log-probs.js';
export { type AdaptedPolicy, asCausalPolicy, type PolicyModel } from './policy.js';
export { PPO_DEFAULTS, type PpoConfig, validatePpoConfig } from './ppo/config.js';
export {
  AdaptiveKlController,
  generalizedAdvantages,
  klPenalizedRewards,
  ppoPolicyLoss,
  ppoValueLoss,
} from './ppo/loss.js';
export {
  PolicyWithValueHead,
  type PpoTrainerOptions,
  type PpoTrainerResult,
  trainPpo,
} from './ppo/trainer.js';
export {
  type ClassifierConfig,
  type ClassifierEpochMetrics,
  type ClassifierTrainerOptions,
  classifierAccuracy,
  type LabelledText,
  MeanPooledClassifier,
  trainClassifier,
} from './reward/classifier.js';
export {
  loadClassifier,
  type SavedClassifierConfig,
  saveClassifier,
} from './reward/classifier-files.js';
export { bradleyTerryLoss, combineRewards, type RewardFunction } from './reward/loss.js';
export {
  classifierReward,
  pairAccuracy,
  type RewardTrainerOptions,
  type SequenceClassifier,
  scalarReward,
  trainRewardModel,
} from './reward/trainer.js';
export {
  CompactVocabulary,
  type CompactVocabularyJson,
  type CompactVocabularyOptions,
  PAD_ID,
  UNKNOWN_ID,
} from './reward/vocabulary.js';
export { type Rollout, type RolloutSampling, sampleRollout } from './rollout.js';
export {
  batchIndices,
  type CheckpointOptions,
  type OptimizerOptions,
  type StepMetrics,
} from './run.js';
export {
  batchTokenLogProbs,
  type CausalPolicy,
  type CompletionBatch,
  type CompletionRow,
  completionBatch,
  type TextTokenizer,
} from './sequences.js';
