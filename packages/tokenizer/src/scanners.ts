import { flagsAt, LETTER, LOWER, NUMBER, SPACE, UPPER, widthAt } from './char-class.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from './pattern.js';

/**
 * Hand-written pre-tokenizers for the three OpenAI patterns. Each returns the end of the piece
 * that the pattern's regex would match at `start`, with the regex's exact leftmost-alternative,
 * greedy-with-backtracking semantics, about 3x faster than the regex engine. Every one of these
 * patterns matches at every position, so a scanner always returns `end > start`.
 *
 * Backtracking is worked out once per construct instead of being searched for:
 * - `\s+(?!\S)`: the whitespace run, less its last character when a non-space follows (and
 *   no match when that leaves nothing).
 * - `\s*[\r\n]+`: the whitespace run up to and including its last `\r` or `\n`.
 * - o200k `U*L+` (U and L overlap in Lm, Lo, M): the whole U run when an L character follows
 *   it, otherwise up to and including the run's last character that is also in L.
 * The tests compare these scanners with the regexes on fuzzed text.
 */
export type Scanner = (text: string, start: number, table: Uint8Array) => number;

const CR = 13;
const LF = 10;
const SPACE_CHAR = 32;
const APOSTROPHE = 39;
const SLASH = 47;

function isLineBreak(c: number): boolean {
  return c === CR || c === LF;
}

/** End of the run from `i` of code points having any of `mask`'s flags. */
function runEnd(text: string, i: number, mask: number, table: Uint8Array): number {
  while (i < text.length && flagsAt(text, i, table) & mask) i += widthAt(text, i);
  return i;
}

/** End of the run from `i` of code points with none of `mask`'s flags (and not `\r`/`\n` if asked). */
function notRunEnd(text: string, i: number, mask: number, table: Uint8Array): number {
  while (i < text.length && !(flagsAt(text, i, table) & mask)) i += widthAt(text, i);
  return i;
}

/**
 * Matches a contraction `'s|'t|'re|'ve|'m|'ll|'d` at `i` (case-insensitive when asked, where
 * `s` also matches `ſ` as in Rust); returns its end, or -1.
 */
function contractionEnd(text: string, i: number, caseInsensitive: boolean): number {
  if (text.charCodeAt(i) !== APOSTROPHE || i + 1 >= text.length) return -1;
  const fold = (c: number): number =>
    caseInsensitive && c >= 65 && c <= 90 ? c + 32 : caseInsensitive && c === 0x17f ? 115 : c;
  const a = fold(text.charCodeAt(i + 1));
  if (a === 115 || a === 116 || a === 109 || a === 100) return i + 2; // s t m d
  const b = i + 2 < text.length ? fold(text.charCodeAt(i + 2)) : -1;
  if ((a === 114 || a === 118) && b === 101) return i + 3; // re ve
  if (a === 108 && b === 108) return i + 3; // ll
  return -1;
}

/** Whitespace alternatives shared by all three patterns: `\s+(?!\S)` then `\s+`. */
function whitespaceEnd(text: string, start: number, table: Uint8Array): number {
  const end = runEnd(text, start, SPACE, table);
  if (end === text.length || end - 1 === start) return end; // \s+(?!\S) fails: \s+ takes the run
  return end - 1;
}

/** `\s*[\r\n]+`: returns its end, or -1. */
function lineBreakRunEnd(text: string, start: number, table: Uint8Array): number {
  const end = runEnd(text, start, SPACE, table);
  for (let k = end - 1; k >= start; k--) if (isLineBreak(text.charCodeAt(k))) return k + 1;
  return -1;
}

/** gpt2, r50k_base, p50k_base, p50k_edit. */
const scanGpt2: Scanner = (text, start, table) => {
  const contraction = contractionEnd(text, start, false);
  if (contraction > 0) return contraction;
  let i = start;
  if (text.charCodeAt(i) === SPACE_CHAR && i + 1 < text.length) i++;
  const flags = flagsAt(text, i, table);
  if (flags & LETTER) return runEnd(text, i, LETTER, table);
  if (flags & NUMBER) return runEnd(text, i, NUMBER, table);
  if (!(flags & SPACE)) return notRunEnd(text, i, SPACE | LETTER | NUMBER, table);
  return whitespaceEnd(text, start, table);
};

/** Optional `[^\r\n\p{L}\p{N}]` prefix: true when the code point at `i` can be one. */
function isPrefix(text: string, i: number, table: Uint8Array): boolean {
  return !isLineBreak(text.charCodeAt(i)) && !(flagsAt(text, i, table) & (LETTER | NUMBER));
}

/** `[^\s\p{L}\p{N}]` at `i` (false past the end). */
function isPunctuation(text: string, i: number, table: Uint8Array): boolean {
  return i < text.length && !(flagsAt(text, i, table) & (SPACE | LETTER | NUMBER));
}

/** ` ?[^\s\p{L}\p{N}]+[\r\n]*` (with `/` in the last class when `slash`); returns its end, or -1. */
function punctuationEnd(text: string, start: number, table: Uint8Array, slash: boolean): number {
  let i = start;
  if (text.charCodeAt(i) === SPACE_CHAR && isPunctuation(text, i + 1, table)) i++;
  if (!isPunctuation(text, i, table)) return -1;
  i = notRunEnd(text, i, SPACE | LETTER | NUMBER, table);
  for (
    let c = text.charCodeAt(i);
    i < text.length && (isLineBreak(c) || (slash && c === SLASH));
    c = text.charCodeAt(++i)
  );
  return i;
}

/** `\p{N}{1,3}` at `start` (which holds a number). */
function digitsEnd(text: string, start: number, table: Uint8Array): number {
  let i = start;
  for (let k = 0; k < 3 && i < text.length && flagsAt(text, i, table) & NUMBER; k++)
    i += widthAt(text, i);
  return i;
}

/** cl100k_base. */
const scanCl100k: Scanner = (text, start, table) => {
  const contraction = contractionEnd(text, start, true);
  if (contraction > 0) return contraction;
  const flags = flagsAt(text, start, table);
  if (flags & LETTER) return runEnd(text, start, LETTER, table);
  const next = start + widthAt(text, start);
  if (isPrefix(text, start, table) && next < text.length && flagsAt(text, next, table) & LETTER) {
    return runEnd(text, next, LETTER, table);
  }
  if (flags & NUMBER) return digitsEnd(text, start, table);
  const punctuation = punctuationEnd(text, start, table, false);
  if (punctuation > 0) return punctuation;
  const lineBreak = lineBreakRunEnd(text, start, table);
  if (lineBreak > 0) return lineBreak;
  return whitespaceEnd(text, start, table);
};

/**
 * o200k's two word alternatives from `from` (after an optional prefix):
 * `U*L+c?` (returns its end) when `second` is false, `U+L*c?` when true; -1 when no match.
 */
function wordEnd(text: string, from: number, table: Uint8Array, second: boolean): number {
  if (from >= text.length) return -1;
  let end: number;
  if (!second) {
    let j = from;
    let lastLower = -1; // last code point of the U run that is also in L
    while (j < text.length) {
      const f = flagsAt(text, j, table);
      if (!(f & UPPER)) break;
      if (f & LOWER) lastLower = j;
      j += widthAt(text, j);
    }
    if (j < text.length && flagsAt(text, j, table) & LOWER) end = runEnd(text, j, LOWER, table);
    else if (lastLower >= 0) end = lastLower + widthAt(text, lastLower);
    else return -1;
  } else {
    if (!(flagsAt(text, from, table) & UPPER)) return -1;
    end = runEnd(text, runEnd(text, from, UPPER, table), LOWER, table);
  }
  const contraction = contractionEnd(text, end, true);
  return contraction > 0 ? contraction : end;
}

/** o200k_base. */
const scanO200k: Scanner = (text, start, table) => {
  // regex order: first word alternative with, then without the prefix; then the second one
  const next = isPrefix(text, start, table) ? start + widthAt(text, start) : -1;
  let end = next > 0 ? wordEnd(text, next, table, false) : -1;
  if (end < 0) end = wordEnd(text, start, table, false);
  if (end < 0 && next > 0) end = wordEnd(text, next, table, true);
  if (end < 0) end = wordEnd(text, start, table, true);
  if (end > 0) return end;
  if (flagsAt(text, start, table) & NUMBER) return digitsEnd(text, start, table);
  const punctuation = punctuationEnd(text, start, table, true);
  if (punctuation > 0) return punctuation;
  const lineBreak = lineBreakRunEnd(text, start, table);
  if (lineBreak > 0) return lineBreak;
  return whitespaceEnd(text, start, table);
};

/** The hand-written scanner for a pattern, or undefined when there is none (custom patterns). */
export function scannerFor(pattern: string): Scanner | undefined {
  if (pattern === GPT2_PATTERN) return scanGpt2;
  if (pattern === CL100K_PATTERN) return scanCl100k;
  if (pattern === O200K_PATTERN) return scanO200k;
  return undefined;
}
