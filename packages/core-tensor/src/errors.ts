/**
 * The one error class of @llmkit/core-tensor. `code` is stable and machine-readable; the message
 * names the bad value and what was expected.
 *
 * @example
 * ```ts
 * try { matmul(zeros([2, 3]), zeros([4, 5])) } catch (e) {
 *   if (e instanceof TensorError) console.log(e.code, e.message);
 *   // shape_mismatch matmul: inner dimensions differ: [2,3] @ [4,5]
 * }
 * ```
 */
export class TensorError extends Error {
  /**
   * A stable identifier of the failure: `shape_mismatch`, `dtype_mismatch`, `disposed`,
   * `invalid_argument`, `unsupported`, `backend`, `safetensors`, `state_dict`.
   */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TensorError';
    this.code = code;
  }
}

/** Formats a shape as `[2,3]` for error messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
