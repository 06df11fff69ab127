// The error class of @llmkit/rlhf: the shared LlmkitError codes.
import { LlmkitError, type LlmkitErrorCode } from '@llmkit/utils';

/**
 * The error of @llmkit/rlhf: a bad config is `invalid_config`, bad rewards or preference data
 * `invalid_data`, mismatched tensors `invalid_argument`.
 *
 * @example
 * ```ts
 * try { validateDpoConfig({ beta: 0 }); } catch (error) {
 *   if (error instanceof LlmkitError) console.log(error.code); // invalid_config
 * }
 * ```
 */
export class RlhfError extends LlmkitError<LlmkitErrorCode> {}
