// Every op, for the Tensor methods and the package index.
export { backward } from '../autograd/backward.js';
export * from './cast.js';
export * from './creation.js';
export * from './elementwise.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './shape.js';
