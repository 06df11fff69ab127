/**
 * Side-effect entry: `import '@llmkit/backend-cpu/register'` registers the backend `cpu`
 * (priority 20, above `js`) when the native addon loads. When it cannot load, one line on stderr
 * says why and core-tensor keeps using `js`.
 *
 * @example
 * ```ts
 * import '@llmkit/backend-cpu/register';
 * import { getBackend } from '@llmkit/core-tensor';
 * console.log(getBackend().name); // cpu
 * ```
 *
 * @module
 */
import { registerBackend } from '@llmkit/core-tensor/backend';
import { createCpuBackend } from './backend.js';
import { nativeLoadFailure, tryLoadNative } from './native.js';

/** Priority of `cpu` in core-tensor's registry (`webgpu` 30 > `cpu` 20 > `js` 0). */
export const CPU_BACKEND_PRIORITY = 20;

if (tryLoadNative()) {
  registerBackend('cpu', () => createCpuBackend(), CPU_BACKEND_PRIORITY);
} else {
  console.warn(`@llmkit/backend-cpu: cpu backend not registered, using js: ${nativeLoadFailure()}`);
}
