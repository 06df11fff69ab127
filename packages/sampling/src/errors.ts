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
