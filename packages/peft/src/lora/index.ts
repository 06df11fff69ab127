// LoRA: registers the method and exports its config, layer and method object.
import { registerMethod } from '../registry.js';
import { lora } from './model.js';

registerMethod(lora);

export {
  LORA_DEFAULTS,
  type LoraBias,
  type LoraConfig,
  loraScaling,
  resolveLoraConfig,
} from './config.js';
export {
  type LoraBase,
  LoraLayer,
  loraEmbeddingUpdate,
  loraLayerOf,
  loraUpdate,
} from './layer.js';
export { lora, loraTargets } from './model.js';
