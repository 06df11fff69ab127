// @llmkit/peft: the public API. Importing it registers lora, ia3 and prompt-tuning.
export { AdapterWeights } from './adapter-weights.js';
export { PeftError } from './errors.js';
export {
  LORA_DEFAULTS,
  type LoraBase,
  type LoraBias,
  type LoraConfig,
  LoraLayer,
  lora,
  loraEmbeddingUpdate,
  loraLayerOf,
  loraUpdate,
  loraScaling,
  loraTargets,
  resolveLoraConfig,
} from './lora/index.js';
export {
  IA3_DEFAULTS,
  type Ia3Config,
  Ia3Layer,
  ia3,
  ia3Forward,
  ia3LayerOf,
  resolveIa3Config,
} from './ia3/index.js';
export {
  isQuantizedBase,
  QLORA_DEFAULTS,
  QloraLayer,
  type QloraConfig,
  qlora,
  qloraLayerOf,
  resolveQloraConfig,
} from './qlora/index.js';
export {
  PROMPT_TUNING_DEFAULTS,
  PromptLayer,
  type PromptTokenizer,
  type PromptTuningConfig,
  prependPrompt,
  promptLayerOf,
  promptTuning,
  resolvePromptTuningConfig,
} from './prompt-tuning/index.js';
export { type ForwardOf, getPeftModel, type PeftConfig, PeftModel } from './peft-model.js';
export {
  type AdapterTensorEntry,
  type AttachedAdapter,
  type MethodConfig,
  methodByName,
  type PeftMethod,
  registerMethod,
} from './registry.js';
export {
  huggingFaceModuleName,
  llmkitModuleName,
  matchesTarget,
  type TargetModules,
} from './targets.js';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  adapterConfigJson,
  type LoadAdapterOptions,
  loadAdapter,
  peftKey,
  type SaveAdapterOptions,
  saveAdapter,
} from './files.js';
