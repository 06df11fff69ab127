export { dataOf as jsBufferData, JsBuffer } from './js/buffer.js';
export { createJsBackend, type JsBackendOptions } from './js/index.js';
export {
  findBackend,
  getBackend,
  initBackend,
  listBackends,
  registerBackend,
  setBackend,
} from './registry.js';
export { headStrideOf } from './head-layout.js';
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
} from './types.js';
