export { AdamW, type AdamWOptions } from './adamw.js';
export { clipGradNorm } from './clip.js';
export {
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
