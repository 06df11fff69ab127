// Oniguruma patterns (the Rust tokenizers' engine) as JavaScript RegExps. The patterns real
// tokenizer.json files carry use `\s`, `\p{..}` classes, `(?i:...)` groups and lookahead; the
// tiktoken pattern translator already handles the first and third (Rust's `\s` set is the same
// as Oniguruma's Unicode `\s`). Anything it cannot translate is an `unsupported` error naming
// the pattern, never a silently different split.
import { TokenizerError } from '../errors.js';
import { translatePattern } from '../pattern.js';

/** Compiles an Oniguruma pattern into a global Unicode RegExp. */
export function compileOniguruma(source: string, where: string): RegExp {
  try {
    return new RegExp(translatePattern(source), 'gu');
  } catch (error) {
    throw new TokenizerError(
      'unsupported',
      `${where}: cannot translate the pattern ${JSON.stringify(source)} to a JavaScript RegExp: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
