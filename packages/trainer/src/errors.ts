import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * What went wrong, for code that handles {@link TrainerError}s: the shared codes of
 * `@llmkit/utils` (`invalid_config`, `invalid_data` for examples or records that cannot be
 * trained on, `not_found` when there is no checkpoint to resume, `corrupt_file` for a checkpoint
 * that does not load) and the trainer's own `non_finite_loss` (training diverged).
 */
export type TrainerErrorCode = LlmkitErrorCode | 'non_finite_loss';

/**
 * The one error class of @llmkit/trainer, an `LlmkitError`. `code` is stable (see
 * {@link TrainerErrorCode}); the message names the value and the expectation. Config fields
 * checked by @llmkit/utils' validators throw a plain `LlmkitError` (`invalid_config`).
 *
 * @example
 * ```ts
 * try { await trainer.train(); } catch (e) { if (e instanceof TrainerError && e.code === 'non_finite_loss') console.log(e.message); }
 * ```
 */
export class TrainerError extends LlmkitError<TrainerErrorCode> {}
