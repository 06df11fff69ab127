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
export { TrainerError } from './errors.js';
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
