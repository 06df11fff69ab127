export {
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from './checkpoint.js';
export { resolveConfig, type TrainerConfig, type TrainerConfigInput } from './config.js';
export {
  ExampleBatches,
  type ExampleBatchesState,
  IGNORE_INDEX,
  instructionExample,
  padBatch,
  type SupervisedBatch,
  type SupervisedExample,
} from './data/examples.js';
export type { Split, TrainingData } from './data/source.js';
export {
  type LanguageModelBatch,
  TokenWindows,
  type TokenWindowsOptions,
  type TokenWindowsState,
} from './data/token-windows.js';
export { TrainerError, type TrainerErrorCode } from './errors.js';
export { causalLanguageModelLoss, countTargets, type LanguageModel } from './losses.js';
export { lossCurveSvg } from './loss-curve.js';
export { createProgressReporter, type ProgressEvent, type ProgressReporter } from './progress.js';
export { learningRateAt, type Schedule, validateSchedule } from './schedule.js';
export {
  type Evaluation,
  type LossFunction,
  type MetricsFunction,
  Trainer,
  type TrainerOptions,
  type TrainResult,
} from './trainer.js';
export {
  type ClassificationBatch,
  type ClassificationEvaluation,
  type ClassificationPadding,
  classificationAccuracy,
  evaluateClassifier,
  type LabelledSequence,
  LabelledSequences,
  type LabelledText,
  padClassificationBatch,
  parseLabelledLines,
  type SequenceClassifier,
  sequenceClassificationLoss,
} from './tasks/classification.js';
export { type EpochState, holdOut } from './tasks/epochs.js';
export {
  type InstructionFormat,
  type InstructionRecord,
  instructionBatches,
  instructionExampleFromRecord,
  parseInstructionRecords,
  renderInstruction,
} from './tasks/instruction.js';
export { ReplayData, type ReplayOptions, type ReplayState } from './tasks/replay.js';
export {
  type ExactMatchEvaluation,
  padSeq2SeqBatch,
  type Seq2SeqBatch,
  Seq2SeqBatches,
  type Seq2SeqExample,
  type Seq2SeqModel,
  type Seq2SeqTokens,
  seq2seqExactMatch,
  seq2seqLoss,
} from './tasks/seq2seq.js';
