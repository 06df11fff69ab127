// IA3: registers the method and exports its config, layer and method object.
import { registerMethod } from '../registry.js';
import { ia3 } from './model.js';

registerMethod(ia3);

export { IA3_DEFAULTS, type Ia3Config, resolveIa3Config } from './config.js';
export { Ia3Layer, ia3Forward, ia3LayerOf } from './layer.js';
export { ia3 } from './model.js';
