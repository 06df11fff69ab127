// @llmkit/backend-gpu: the WebGPU backend of core-tensor.
/// <reference types="@webgpu/types" />
export { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from './backend.js';
export { type DeviceOptions, type OpenedDevice, openDevice } from './device.js';
export { WebGpuError, type WebGpuErrorCode } from './errors.js';
