// Prompt tuning: registers the method and exports its config, layer and method object.
import { registerMethod } from '../registry.js';
import { promptTuning } from './model.js';

registerMethod(promptTuning);

export {
  PROMPT_TUNING_DEFAULTS,
  type PromptTokenizer,
  type PromptTuningConfig,
  resolvePromptTuningConfig,
} from './config.js';
export { PromptLayer, prependPrompt, promptLayerOf } from './layer.js';
export { promptTuning } from './model.js';
