/**
 * The one error class of @llmkit/tokenizer. `code` is stable and machine-readable;
 * the message names the bad value and what was expected.
 *
 * @example
 * ```ts
 * try { getEncoding('gpt5') } catch (e) { if (e instanceof TokenizerError) console.log(e.code) } // 'unknown_encoding'
 * ```
 */
export class TokenizerError extends Error {
  /** A stable identifier of the failure, such as `unknown_encoding` or `invalid_token_id`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TokenizerError';
    this.code = code;
  }
}
