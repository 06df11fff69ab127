export { Dropout, Lambda, ModuleList, Sequential, type TensorModule } from './containers.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export * as init from './init.js';
export { withoutInit } from './init.js';
export { Linear, type LinearOptions } from './linear.js';
export { type LoadStateDictResult, Module } from './module.js';
export { LayerNorm, type LayerNormOptions, RMSNorm, type RMSNormOptions } from './norm.js';
