import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * What went wrong, for code that handles {@link TensorError}s: the shared codes of
 * `@llmkit/utils` (`invalid_argument`, `unsupported`, `corrupt_file` for a damaged safetensors
 * file, ...) and core-tensor's own: `shape_mismatch`, `dtype_mismatch`, `disposed` (a tensor used
 * after `dispose()`), `backend` (no or the wrong backend), `state_dict` (a state dict that does
 * not fit the module or optimizer).
 */
export type TensorErrorCode =
  | LlmkitErrorCode
  | 'shape_mismatch'
  | 'dtype_mismatch'
  | 'disposed'
  | 'backend'
  | 'state_dict';

/**
 * The one error class of @llmkit/core-tensor, an `LlmkitError`. `code` is stable and
 * machine-readable (see {@link TensorErrorCode}); the message names the bad value and what was
 * expected.
 *
 * @example
 * ```ts
 * try { matmul(zeros([2, 3]), zeros([4, 5])) } catch (e) {
 *   if (e instanceof TensorError) console.log(e.code, e.message);
 *   // shape_mismatch matmul: inner dimensions differ: [2,3] @ [4,5]
 * }
 * ```
 */
export class TensorError extends LlmkitError<TensorErrorCode> {}

// One formatter for shapes in messages, shared by every package (re-exported for compatibility).
export { formatShape } from '@llmkit/utils';
