// nn: modules and the `init` namespace of weight initialisers.
import * as init from './init.js';

export { Dropout, Lambda, ModuleList, Sequential, type TensorModule } from './containers.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { withoutInit } from './init.js';
export { Linear, type LinearOptions } from './linear.js';
export { type LoadStateDictResult, Module } from './module.js';
export { LayerNorm, type LayerNormOptions, RMSNorm, type RMSNormOptions } from './norm.js';
export { init };
