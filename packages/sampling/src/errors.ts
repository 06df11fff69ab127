/**
 * The one error class of @llmkit/sampling. `code` is stable and machine-readable; the message
 * names the bad value and what was expected.
 *
 * @example
 * ```ts
 * try { createSampler({ topP: 1.5 }) } catch (e) { if (e instanceof SamplingError) console.log(e.code) } // 'invalid_config'
 * ```
 */
export class SamplingError extends Error {
  /**
   * A stable identifier of the failure: `invalid_config` (a bad option, named in the message),
   * `invalid_logits` (empty, NaN or all `-Infinity` logits), `invalid_input` (bad token ids,
   * prompts or step results).
   */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'SamplingError';
    this.code = code;
  }
}

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
