import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * What went wrong, for code that handles {@link WebGpuError}s: the shared codes of
 * `@llmkit/utils` (`unsupported`: a dtype or size this backend does not handle;
 * `invalid_argument`) and backend-gpu's own: `no_adapter` (no WebGPU adapter on this machine),
 * `device_lost`, `out_of_memory`, `validation` (Dawn or the browser rejected a command: a backend
 * bug).
 */
export type WebGpuErrorCode =
  | LlmkitErrorCode
  | 'no_adapter'
  | 'device_lost'
  | 'out_of_memory'
  | 'validation';

/**
 * The one error class of @llmkit/backend-gpu, an `LlmkitError`. `code` is stable and
 * machine-readable (see {@link WebGpuErrorCode}); the message names the kernel and shapes
 * involved where there are some.
 *
 * @example
 * ```ts
 * try { await createWebGpuBackend() } catch (e) {
 *   if (e instanceof WebGpuError && e.code === 'no_adapter') console.log(e.message);
 * }
 * ```
 */
export class WebGpuError extends LlmkitError<WebGpuErrorCode> {}
