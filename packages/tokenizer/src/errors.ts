import { LlmkitError } from '@llmkit/utils';

/**
 * The one error class of @llmkit/tokenizer. `code` is stable and machine-readable;
 * the message names the bad value and what was expected.
 *
 * @example
 * ```ts
 * try { getEncoding('gpt5') } catch (e) { if (e instanceof TokenizerError) console.log(e.code) } // 'unknown_encoding'
 * ```
 */
export class TokenizerError extends LlmkitError<string> {
  /** Creates an error; `code` is stable, such as `unknown_encoding` or `invalid_token_id`. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
