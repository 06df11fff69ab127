/**
 * `import '@llmkit/backend-gpu/register'` registers the `webgpu` backend (priority 30, above
 * `cpu` 20 and `js` 0) once a WebGPU adapter is found: `navigator.gpu` in a browser, Dawn's
 * `webgpu` package in Node (imported dynamically, so browser bundles never include it). The
 * device is opened during the import (top-level await), so the backend is ready when the import
 * resolves and `getBackend()` picks it. Without an adapter it prints one line and registers
 * nothing.
 *
 * @example
 * ```ts
 * import '@llmkit/backend-gpu/register';
 * import { getBackend } from '@llmkit/core-tensor';
 * console.log(getBackend().name); // 'webgpu' where an adapter exists
 * ```
 * @module
 */
import { registerBackend } from '@llmkit/core-tensor/backend';
import { createWebGpuBackend, type WebGpuBackend } from './backend.js';

/** Registry priority of `webgpu` (`cpu` registers at 20, `js` at 0). */
export const WEBGPU_PRIORITY = 30;

/** The registered backend, or undefined when this environment has no WebGPU adapter. */
export let registered: WebGpuBackend | undefined;

try {
  const backend = await createWebGpuBackend();
  registerBackend('webgpu', () => backend, WEBGPU_PRIORITY);
  registered = backend;
} catch (error) {
  console.warn(`@llmkit/backend-gpu: webgpu backend not registered: ${(error as Error).message}`);
}
