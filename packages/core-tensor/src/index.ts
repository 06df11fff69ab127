// @llmkit/core-tensor: the public API.
export { type BackwardOptions, backward } from './autograd/backward.js';
export { enableGrad, isGradEnabled, noGrad } from './autograd/grad-mode.js';
export {
  defineGradient,
  type GradientContext,
  type GradientRule,
  GRADIENTS,
} from './autograd/gradients.js';
export { type Edge, type InputInfo, Node, type OpAttributes, record } from './autograd/node.js';
export * from './backend/index.js';
export * from './dtype.js';
export { type Disposable, dispose, keep, Storage, tidy } from './engine.js';
export { formatShape, TensorError, type TensorErrorCode } from './errors.js';
export { type MemoryInfo, memory } from './memory.js';
export * from './ops/index.js';
export { defaultGenerator, Generator, manualSeed } from './random.js';
export * from './shape.js';
export { type NestedArray, Tensor, type TensorLike } from './tensor.js';
export { TensorMethods } from './tensor-methods.js';
export * from './nn/index.js';
export * from './optim/index.js';
export { type GradcheckOptions, type GradcheckResult, gradcheck } from './testing/gradcheck.js';
export * from './io/index.js';
export { checkpoint, gradientCheckpoint } from './autograd/checkpoint.js';
