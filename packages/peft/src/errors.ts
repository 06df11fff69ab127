// The error class of @llmkit/peft: the shared LlmkitError codes, nothing of its own.
import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * The error of @llmkit/peft. `code` is one of the shared {@link LlmkitErrorCode}s: a bad config is
 * `invalid_config`, a target that matches nothing or an adapter file that does not fit its model
 * is `invalid_argument` / `invalid_data`, a missing file `not_found`, a method mix `unsupported`.
 *
 * @example
 * ```ts
 * try { getPeftModel(model, { method: 'lora', r: 0 }); } catch (error) {
 *   if (error instanceof PeftError) console.log(error.code); // invalid_config
 * }
 * ```
 */
export class PeftError extends LlmkitError<LlmkitErrorCode> {}

/**
 * Runs `fn`, rethrowing a plain LlmkitError (what @llmkit/utils' validators throw) as a PeftError
 * with the same code and message, so callers can catch one class.
 */
export function asPeftError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof LlmkitError && !(error instanceof PeftError))
      throw new PeftError(error.code as LlmkitErrorCode, error.message, { cause: error });
    throw error;
  }
}
