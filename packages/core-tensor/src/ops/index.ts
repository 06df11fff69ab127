// Every op, for the Tensor methods (`import * as ops`); the package's entry points pick from here
// and from the op files. An explicit list: a new op is added here by name.
export { backward } from '../autograd/backward.js';
export {
  type AttentionOptions,
  type AttentionWithWeights,
  canUseFusedAttention,
  causalMask,
  scaledDotProductAttention,
} from './attention.js';
export { assign, cast } from './cast.js';
export { cat, chunk, split, stack } from './combine.js';
export {
  arange,
  type CreateOptions,
  decodeValues,
  encodeValues,
  eye,
  fromValues,
  full,
  nest,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  type RandomOptions,
  scalarLike,
  tensor,
  type TensorOptions,
  zeros,
  zerosLike,
} from './creation.js';
export { dropout, type DropoutOptions } from './dropout.js';
export {
  abs,
  add,
  binary,
  clamp,
  cos,
  div,
  eq,
  erf,
  exp,
  floor,
  ge,
  gelu,
  type GeluOptions,
  gt,
  le,
  log,
  logicalAnd,
  logicalNot,
  logicalOr,
  lt,
  maskedFill,
  maximum,
  minimum,
  mul,
  ne,
  neg,
  operands,
  pow,
  reciprocal,
  relu,
  rsqrt,
  sigmoid,
  sign,
  silu,
  sin,
  sqrt,
  square,
  sub,
  tanh,
  unary,
  where,
} from './elementwise.js';
export { embedding, gather, indexSelect, oneHot, scatterAdd, tril, triu } from './indexing.js';
export { crossEntropy, type CrossEntropyOptions, mseLoss } from './loss.js';
export { linear } from './linear.js';
export { type LinearCrossEntropyOptions, linearCrossEntropy } from './linear-cross-entropy.js';
export { matmul } from './matmul.js';
export { layerNorm, type NormOptions, rmsNorm } from './normalization.js';
export { rope } from './rope.js';
export {
  argmax,
  argmin,
  type Axes,
  max,
  mean,
  min,
  type ReduceOptions,
  std,
  sum,
  sumToShape,
  variance,
  type VarianceOptions,
} from './reduce.js';
export {
  broadcastView,
  contiguous,
  denseCopy,
  expand,
  flatten,
  narrow,
  permute,
  reshape,
  reshapeNoGrad,
  slice,
  squeeze,
  transpose,
  unsqueeze,
  view,
  viewOf,
} from './shape.js';
export { logSoftmax, logsumexp, softmax } from './softmax.js';
