// The error of @llmkit/quantize: LlmkitError with the shared code vocabulary.
import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * Thrown by @llmkit/quantize: an unknown format (`invalid_config`), a group size that does not
 * divide a layer's width (`invalid_argument`), a damaged packed tensor or a quantized file whose
 * config disagrees with its tensors (`corrupt_file`).
 *
 * @example
 * ```ts
 * try { quantizeWeight(w, [4, 48], { format: 'int4', groupSize: 32 }); }
 * catch (error) { if (error instanceof QuantizeError) console.log(error.code); } // invalid_argument
 * ```
 */
export class QuantizeError extends LlmkitError<LlmkitErrorCode> {}
