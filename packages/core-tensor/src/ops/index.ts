// Every op, for the Tensor methods and the package index.
export { backward } from '../autograd/backward.js';
export * from './attention.js';
export * from './cast.js';
export * from './combine.js';
export * from './creation.js';
export * from './dropout.js';
export * from './elementwise.js';
export * from './indexing.js';
export * from './loss.js';
export * from './matmul.js';
export * from './normalization.js';
export * from './reduce.js';
export * from './shape.js';
export * from './softmax.js';
