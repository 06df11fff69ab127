/**
 * The one error class of @llmkit/rag. `code` is stable and machine-readable; the message names
 * the bad value and what was expected.
 *
 * Codes: `invalid_option`, `dimension_mismatch`, `duplicate_id`, `corrupt_file`, `wrong_file_kind`,
 * `invalid_vector`, `http_error`, `bad_response`, `unsupported_filter`, `aborted`, `closed`, `invalid_input`
 * (a text or pair the encoder embedder cannot take), `non_finite_loss` (contrastive training diverged).
 *
 * @example
 * ```ts
 * try { await index.add([{ id: 'a', vector: new Float32Array(3) }]) }
 * catch (e) { if (e instanceof RagError) console.log(e.code) } // 'dimension_mismatch'
 * ```
 */
export class RagError extends Error {
  /** A stable identifier of the failure, such as `dimension_mismatch` or `corrupt_file`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RagError';
    this.code = code;
  }
}
