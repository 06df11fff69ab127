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
export * from './types.js';
