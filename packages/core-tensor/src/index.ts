// @llmkit/core-tensor: the public API for users of tensors, nn, optim and io. What only backend
// and op authors need (the Backend interface, kernels, the autograd graph and its gradient table)
// is exported from `@llmkit/core-tensor/backend` (src/backend-api.ts); the conformance suite from
// `@llmkit/core-tensor/testing`. The list is explicit: api/core-tensor.api.txt records it.
export { type BackwardOptions, backward } from './autograd/backward.js';
export { checkpoint, gradientCheckpoint } from './autograd/checkpoint.js';
export { enableGrad, isGradEnabled, noGrad } from './autograd/grad-mode.js';
export { getBackend, listBackends, setBackend } from './backend/registry.js';
export { DTYPE_BYTES, DTYPES, type DType, isHalfDType, type TypedArray } from './dtype.js';
export { type Disposable, dispose, keep, tidy } from './engine.js';
export { formatShape, TensorError, type TensorErrorCode } from './errors.js';
export {
  MAX_HEADER_BYTES,
  parseSafetensors,
  parseSafetensorsLayout,
  SAFETENSORS_DTYPES,
  type SafetensorsLayout,
  type SafetensorsSpan,
  safetensorsHeaderLength,
  type SafetensorsEntry,
  type SafetensorsFile,
  serializeSafetensors,
} from './io/safetensors.js';
export {
  type LoadSafetensorsOptions,
  loadSafetensors,
  type ReadSafetensorsOptions,
  readSafetensors,
  saveSafetensors,
  writeSafetensors,
} from './io/tensors.js';
export { type MemoryInfo, memory } from './memory.js';
export { Dropout, Lambda, ModuleList, Sequential, type TensorModule } from './nn/containers.js';
export { Embedding, type EmbeddingOptions } from './nn/embedding.js';
export { init, withoutInit } from './nn/index.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { type LoadStateDictResult, Module } from './nn/module.js';
export { LayerNorm, type LayerNormOptions, RMSNorm, type RMSNormOptions } from './nn/norm.js';
export {
  type AttentionOptions,
  type AttentionWithWeights,
  causalMask,
  scaledDotProductAttention,
} from './ops/attention.js';
export { assign, cast } from './ops/cast.js';
export { cat, chunk, split, stack } from './ops/combine.js';
export {
  arange,
  type CreateOptions,
  eye,
  fromValues,
  full,
  ones,
  onesLike,
  type RandomOptions,
  rand,
  randint,
  randn,
  type TensorOptions,
  tensor,
  zeros,
  zerosLike,
} from './ops/creation.js';
export { type DropoutOptions, dropout } from './ops/dropout.js';
export {
  abs,
  add,
  clamp,
  cos,
  div,
  eq,
  erf,
  exp,
  floor,
  type GeluOptions,
  ge,
  gelu,
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
  where,
} from './ops/elementwise.js';
export { embedding, gather, indexSelect, oneHot, scatterAdd, tril, triu } from './ops/indexing.js';
export { type CrossEntropyOptions, crossEntropy, mseLoss } from './ops/loss.js';
export { linear } from './ops/linear.js';
export {
  type LinearCrossEntropyOptions,
  linearCrossEntropy,
} from './ops/linear-cross-entropy.js';
export { matmul } from './ops/matmul.js';
export { layerNorm, type NormOptions, rmsNorm } from './ops/normalization.js';
export { rope } from './ops/rope.js';
export {
  type Axes,
  argmax,
  argmin,
  max,
  mean,
  min,
  type ReduceOptions,
  std,
  sum,
  type VarianceOptions,
  variance,
} from './ops/reduce.js';
export {
  contiguous,
  expand,
  flatten,
  narrow,
  permute,
  reshape,
  slice,
  squeeze,
  transpose,
  unsqueeze,
  view,
} from './ops/shape.js';
export { logSoftmax, logsumexp, softmax } from './ops/softmax.js';
export { AdamW, type AdamWOptions } from './optim/adamw.js';
export { clipGradNorm } from './optim/clip.js';
export {
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from './optim/optimizer.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export { defaultGenerator, Generator, manualSeed } from './random.js';
export { broadcastShapes, type Shape, shapeSize } from './shape.js';
export { type NestedArray, Tensor, type TensorLike } from './tensor.js';
export { TensorMethods } from './tensor-methods.js';
export { type GradcheckOptions, type GradcheckResult, gradcheck } from './testing/gradcheck.js';
