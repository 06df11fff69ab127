/**
 * The one error class of @llmkit/backend-gpu. `code` is stable and machine-readable; the message
 * names the kernel and shapes involved where there are some.
 *
 * @example
 * ```ts
 * try { await createWebGpuBackend() } catch (e) {
 *   if (e instanceof WebGpuError && e.code === 'no_adapter') console.log(e.message);
 * }
 * ```
 */
export class WebGpuError extends Error {
  /**
   * A stable identifier of the failure: `no_adapter` (no WebGPU adapter on this machine),
   * `device_lost`, `out_of_memory`, `validation` (Dawn or the browser rejected a command: a
   * backend bug), `unsupported` (a dtype or size this backend does not handle), `invalid_argument`.
   */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'WebGpuError';
    this.code = code;
  }
}

/** Formats a shape as `[2,3]` for error messages. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
