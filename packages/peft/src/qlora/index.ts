// QLoRA: registers the method and exports its config and method object.
import { registerMethod } from '../registry.js';
import { qlora } from './model.js';

registerMethod(qlora);

export { QLORA_DEFAULTS, type QloraConfig, resolveQloraConfig } from './config.js';
export { isQuantizedBase, QloraLayer, qloraLayerOf } from './layer.js';
export { qlora } from './model.js';
