import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * What went wrong, for code that handles {@link RagError}s: the shared codes of `@llmkit/utils`
 * (`invalid_config` for a bad option, `invalid_data` for a bad document, record, vector or text,
 * `corrupt_file` for a damaged index file or one of another kind, `not_found`, `unsupported`,
 * `aborted`, `invalid_argument`) and rag's own: `dimension_mismatch`, `duplicate_id`,
 * `unsupported_filter`, `http_error` and `bad_response` (an embedding server), `closed` (a store
 * used after `close()`), `non_finite_loss` (contrastive training diverged).
 */
export type RagErrorCode =
  | LlmkitErrorCode
  | 'dimension_mismatch'
  | 'duplicate_id'
  | 'unsupported_filter'
  | 'http_error'
  | 'bad_response'
  | 'closed'
  | 'non_finite_loss';

/**
 * The one error class of @llmkit/rag, an `LlmkitError`. `code` is stable and machine-readable
 * (see {@link RagErrorCode}); the message names the bad value and what was expected.
 *
 * @example
 * ```ts
 * try { await index.add([{ id: 'a', vector: new Float32Array(3) }]) }
 * catch (e) { if (e instanceof RagError) console.log(e.code) } // 'dimension_mismatch'
 * ```
 */
export class RagError extends LlmkitError<RagErrorCode> {}
