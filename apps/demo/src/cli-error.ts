import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * A mistake in how the command was called (bad flag, missing file): printed without a stack. An
 * `LlmkitError` with the shared codes; `invalid_argument` (a flag or argument) unless the call
 * site says otherwise (`not_found` for a missing file, `corrupt_file` for a damaged run folder).
 *
 * @example
 * ```ts
 * throw new CliError('--data PATH is required');
 * throw new CliError(`--data ${path}: no such file`, { code: 'not_found' });
 * ```
 */
export class CliError extends LlmkitError<LlmkitErrorCode> {
  /** Creates an error; `options.code` defaults to `invalid_argument`, `options.cause` is kept. */
  constructor(message: string, options: { code?: LlmkitErrorCode; cause?: unknown } = {}) {
    super(options.code ?? 'invalid_argument', message, { cause: options.cause });
  }
}
