/** What went wrong, for code that handles {@link CpuBackendError}s. */
export type CpuBackendErrorCode =
  /** The native addon is not built or cannot load on this machine. */
  | 'addon_unavailable'
  /** An argument is outside what the kernel accepts. */
  | 'invalid_argument';

/**
 * The one error class of `@llmkit/backend-cpu`; `code` says what kind of failure it is and the
 * message names the bad value and what was expected.
 *
 * @example
 * ```ts
 * try {
 *   setCpuThreads(0);
 * } catch (error) {
 *   if (error instanceof CpuBackendError) console.log(error.code); // invalid_argument
 * }
 * ```
 */
export class CpuBackendError extends Error {
  /** The kind of failure. */
  readonly code: CpuBackendErrorCode;

  /** Creates an error with a code and a message naming the bad value. */
  constructor(code: CpuBackendErrorCode, message: string) {
    super(message);
    this.name = 'CpuBackendError';
    this.code = code;
  }
}
