// @llmkit/backend-cpu: the public API.
export {
  type CpuBackend,
  type CpuBackendOptions,
  createCpuBackend,
  type KernelProfile,
} from './backend.js';
export { CpuBackendError, type CpuBackendErrorCode } from './errors.js';
export { type CpuBackendInfo, cpuBackendInfo, setCpuThreads } from './info.js';
export { INT8_MAX_LENGTH, int8Dot, int8Gemv, int8Isa } from './int8.js';
export {
  CPU_ISAS,
  type CpuFeatures,
  type CpuIsa,
  type NativeIsaInfo,
  setCpuIsa,
  supportedCpuIsas,
} from './isa.js';
export {
  BINARY_OPS,
  type NativeKernels,
  nativeKernels,
  REDUCE_OPS,
  UNARY_OPS,
} from './native.js';
