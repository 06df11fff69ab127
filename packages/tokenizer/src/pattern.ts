/**
 * Translates a pre-tokenizer pattern written for Rust's `fancy-regex` (tiktoken's engine)
 * into a JavaScript `RegExp` that splits text identically.
 *
 * Two things differ between the engines:
 * - `\s` is Unicode `White_Space` in Rust (it includes U+0085 and excludes U+FEFF) but a
 *   different fixed set in JavaScript (it includes U+FEFF and excludes U+0085). We spell the
 *   Rust set out.
 * - `(?i:...)` inline flags do not exist in Node 20's RegExp. We expand the letters of such a
 *   group into classes with their Unicode simple case folds (`s` also matches `ſ` U+017F and
 *   `k` the Kelvin sign U+212A, as in Rust).
 *
 * Not handled: nested groups or escapes inside `(?i:...)` (no OpenAI pattern has them); such a
 * pattern is rejected rather than translated wrongly.
 */

/** Unicode White_Space, the set Rust's `\s` matches, as class contents. */
const WHITE_SPACE =
  '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Case-insensitive variants of ASCII letters under Unicode simple case folding. */
function foldClass(letter: string): string {
  const lower = letter.toLowerCase();
  const upper = letter.toUpperCase();
  const extra = lower === 's' ? '\\u017f' : lower === 'k' ? '\\u212a' : '';
  return `[${lower}${upper}${extra}]`;
}

function expandCaseInsensitive(body: string, source: string): string {
  if (/[()[\]\\]/.test(body)) {
    throw new Error(
      `pattern: (?i:...) with nested groups, classes or escapes is not supported: ${source}`,
    );
  }
  return body.replace(/[A-Za-z]/g, foldClass);
}

/**
 * Returns the JavaScript source equivalent to a tiktoken pattern string.
 *
 * @example
 * translatePattern("(?i:'s)|\\s+(?!\\S)") // "(?:'[sSſ])|[\t\n...]+(?![^\t\n...])" (spelled with escapes)
 */
export function translatePattern(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1];
      i++;
      if (next === 's') out += inClass ? WHITE_SPACE : `[${WHITE_SPACE}]`;
      else if (next === 'S') {
        if (inClass)
          throw new Error(`pattern: \\S inside a character class is not supported: ${source}`);
        out += `[^${WHITE_SPACE}]`;
      } else out += c + next;
      continue;
    }
    if (!inClass && source.startsWith('(?i:', i)) {
      const end = source.indexOf(')', i);
      out += `(?:${expandCaseInsensitive(source.slice(i + 4, end), source)})`;
      i = end;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

/** Compiles a tiktoken pattern string into a global Unicode `RegExp`. */
export function compilePattern(source: string): RegExp {
  return new RegExp(translatePattern(source), 'gu');
}

/** The pre-tokenizer pattern of `gpt2`, `r50k_base`, `p50k_base` and `p50k_edit`. */
export const GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** The pre-tokenizer pattern of `cl100k_base` (GPT-4), the default for {@link trainBpe}. */
export const CL100K_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** The pre-tokenizer pattern of `o200k_base` (GPT-4o): case-aware words with contractions attached. */
export const O200K_PATTERN =
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" +
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" +
  '\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
