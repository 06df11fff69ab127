import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * What went wrong, for code that handles {@link CpuBackendError}s: the shared codes of
 * `@llmkit/utils` (`invalid_argument`: an argument is outside what the kernel accepts, ...) and
 * backend-cpu's own `addon_unavailable` (the native addon is not built or cannot load on this
 * machine).
 */
export type CpuBackendErrorCode = LlmkitErrorCode | 'addon_unavailable';

/**
 * The one error class of `@llmkit/backend-cpu`, an `LlmkitError`; `code` says what kind of
 * failure it is and the message names the bad value and what was expected.
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
export class CpuBackendError extends LlmkitError<CpuBackendErrorCode> {}
