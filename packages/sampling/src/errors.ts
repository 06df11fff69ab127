import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * What went wrong, for code that handles {@link SamplingError}s: the shared codes of
 * `@llmkit/utils` (`invalid_data` for bad token ids, prompts or step results) and
 * sampling's own `invalid_logits` (empty, NaN or all `-Infinity` logits). A bad option is
 * `invalid_config`, thrown by @llmkit/utils' validators as a plain `LlmkitError`: catch
 * `LlmkitError` to handle both.
 */
export type SamplingErrorCode = LlmkitErrorCode | 'invalid_logits';

/**
 * The one error class of @llmkit/sampling, an `LlmkitError`. `code` is stable and
 * machine-readable (see {@link SamplingErrorCode}); the message names the bad value and what was
 * expected.
 *
 * @example
 * ```ts
 * try { createSampler().sample(new Float32Array(0)) } catch (e) {
 *   if (e instanceof SamplingError) console.log(e.code); // 'invalid_logits'
 * }
 * ```
 */
export class SamplingError extends LlmkitError<SamplingErrorCode> {}

/** The error for a NaN logit. */
export function nanError(id: number): SamplingError {
  return new SamplingError(
    'invalid_logits',
    `sample: logit of token ${id} is NaN; expected a number`,
  );
}

/** The error for logits that leave no token with probability. */
export function allMaskedError(): SamplingError {
  return new SamplingError(
    'invalid_logits',
    'sample: every logit is -Infinity (or masked by the processors); expected at least one finite logit',
  );
}
