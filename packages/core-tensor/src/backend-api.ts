// @llmkit/core-tensor/backend: what backend and op authors need, and users of tensors do not.
// A backend implements `Backend` (memory plus kernels run by name, see KERNELS.md) and registers
// a factory; an op written outside core-tensor runs kernels with `runKernel`, records itself for
// autograd with `record` and gives its gradient with `defineGradient`. The list is explicit:
// api/core-tensor.api.txt records it.
export {
  defineGradient,
  type GradientContext,
  type GradientRule,
  GRADIENTS,
} from './autograd/gradients.js';
export { type Edge, type InputInfo, Node, type OpAttributes, record } from './autograd/node.js';
export { headStrideOf } from './backend/head-layout.js';
export { dataOf as jsBufferData, JsBuffer } from './backend/js/buffer.js';
export { createJsBackend, type JsBackendOptions } from './backend/js/index.js';
export { NF4_CODE, quantizeActivations } from './backend/js/quantized.js';
export { findBackend, initBackend, registerBackend } from './backend/registry.js';
export {
  type Backend,
  type BackendBuffer,
  type BackendFactory,
  type BackendMemory,
  type BinaryOp,
  FLOAT_UNARY_OPS,
  type FloatUnaryOp,
  FUSED_KERNELS,
  type KernelAttributes,
  type KernelName,
  type KernelTensor,
  REQUIRED_KERNELS,
  type ReduceOp,
  type UnaryOp,
} from './backend/types.js';
export {
  fromBfloat16Bits,
  fromFloat16Bits,
  isComputeDType,
  isFloatDType,
  makeTypedArray,
  toBfloat16Bits,
  toFloat16Bits,
  typedArrayMatches,
} from './dtype.js';
export { Storage } from './engine.js';
export { canUseFusedAttention } from './ops/attention.js';
export { decodeValues, encodeValues, nest, scalarLike } from './ops/creation.js';
export { binary, operands, unary } from './ops/elementwise.js';
export { allocate, backendOf, checkComputeDType, runKernel } from './ops/kernel.js';
export { sumToShape } from './ops/reduce.js';
export { broadcastView, denseCopy, reshapeNoGrad, viewOf } from './ops/shape.js';
export { checkShape, contiguousStrides, normalizeAxis, sameShape } from './shape.js';
