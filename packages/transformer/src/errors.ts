import { LlmkitError, type LlmkitErrorCode, type NumberRange } from '@llmkit/utils';

/**
 * What went wrong, for code that handles {@link TransformerError}s: the shared codes of
 * `@llmkit/utils` (`invalid_data` for bad token ids, masks or labels; `corrupt_file` for a
 * checkpoint that does not match its config; `not_found`; `unsupported`) and transformer's own
 * `prompt_too_long`. A bad config field is `invalid_config`, thrown by @llmkit/utils' validators
 * as a plain `LlmkitError`: catch `LlmkitError` to handle both.
 */
export type TransformerErrorCode = LlmkitErrorCode | 'prompt_too_long';

/**
 * The one error class of @llmkit/transformer, an `LlmkitError`. `code` is stable and
 * machine-readable (see {@link TransformerErrorCode}); the message names the bad value and what
 * was expected.
 *
 * @example
 * ```ts
 * try { await model.generate([new Array(2000).fill(1)], { maxNewTokens: 8 }) } catch (e) {
 *   if (e instanceof TransformerError) console.log(e.code); // prompt_too_long
 * }
 * ```
 */
export class TransformerError extends LlmkitError<TransformerErrorCode> {}

/** A size field: an integer >= 1 (`checkNumber(where, field, value, SIZE)`). */
export const SIZE: NumberRange = { min: 1, integer: true };

/** A probability such as dropout: a number in [0, 1). */
export const FRACTION: NumberRange = { min: 0, max: 1, maxExclusive: true };

/** A norm's epsilon: a number in (0, 1). */
export const EPSILON: NumberRange = { min: 0, minExclusive: true, max: 1, maxExclusive: true };

/** The code of a file that could not be read: `not_found` when it is missing, else `corrupt_file`. */
export function readFailureCode(error: unknown): TransformerErrorCode {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT' ? 'not_found' : 'corrupt_file';
}
