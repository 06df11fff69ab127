/**
 * The codes every llmkit package shares, one word per kind of failure:
 *
 * - `invalid_argument`: a function argument is outside what it accepts (a shape, a range, a type);
 * - `invalid_config`: an options or config object has a bad or unknown field;
 * - `invalid_data`: input data (text, JSON lines, token ids, a tensor's values) is malformed;
 * - `corrupt_file`: a file exists but its bytes are damaged, truncated or of another kind;
 * - `unsupported`: valid, but this build, backend or platform does not handle it;
 * - `aborted`: an `AbortSignal` fired;
 * - `not_found`: a file, folder, key or name that was asked for does not exist.
 *
 * A package may add codes of its own for failures only it has (`shape_mismatch` in core-tensor,
 * `no_adapter` in backend-gpu); the shared ones above mean the same thing everywhere.
 */
export type LlmkitErrorCode =
  | 'invalid_argument'
  | 'invalid_config'
  | 'invalid_data'
  | 'corrupt_file'
  | 'unsupported'
  | 'aborted'
  | 'not_found';

/**
 * The base error of every llmkit package. `code` is stable and machine-readable (see
 * {@link LlmkitErrorCode}); the message names the bad value and what was expected; `cause` keeps
 * the underlying error when there is one. Packages subclass it (`TensorError`, `RagError`, ...)
 * so `instanceof LlmkitError` catches them all.
 *
 * @example
 * ```ts
 * import { LlmkitError } from '@llmkit/utils';
 * try {
 *   throw new LlmkitError('invalid_config', 'topP is 1.5, expected a number in (0, 1]');
 * } catch (error) {
 *   if (error instanceof LlmkitError) console.log(error.code); // invalid_config
 * }
 * ```
 */
export class LlmkitError<Code extends string = LlmkitErrorCode> extends Error {
  /** The kind of failure, stable across releases. */
  readonly code: Code;

  /** Creates an error; `options.cause` records the error that led to this one. */
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Formats a shape as `[2,3]` for error messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
