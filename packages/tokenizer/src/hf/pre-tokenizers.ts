// Hugging Face pre-tokenizers: split a piece into smaller pieces (and maybe rewrite them).
// Supported: Split (all five behaviours, invert), ByteLevel, Metaspace, Whitespace,
// WhitespaceSplit, BertPreTokenizer, Punctuation, Digits, Sequence. Others throw `unsupported`
// when the file is loaded.
import { TokenizerError } from '../errors.js';
import type { ComponentJson, PatternJson } from './json.js';
import { patternRegExp } from './normalizers.js';
import { mapChars, type Piece, prependText, slicePiece } from './piece.js';
import { compileOniguruma } from './regex.js';

/** A pre-tokenizer: a piece in (and whether it starts the input), pieces out. */
export type PreTokenizer = (piece: Piece, first: boolean) => Piece[];

/** How a split treats the matched parts, as in Hugging Face's `SplitDelimiterBehavior`. */
export type SplitBehavior =
  | 'Removed'
  | 'Isolated'
  | 'MergedWithPrevious'
  | 'MergedWithNext'
  | 'Contiguous';

/** Cuts `text` into alternating [start, end, isMatch] runs by a global RegExp. */
function findMatches(text: string, pattern: RegExp): [number, number, boolean][] {
  const runs: [number, number, boolean][] = [];
  let last = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m[0].length === 0) {
      pattern.lastIndex += 1;
      continue;
    }
    if (m.index > last) runs.push([last, m.index, false]);
    runs.push([m.index, m.index + m[0].length, true]);
    last = m.index + m[0].length;
  }
  if (last < text.length) runs.push([last, text.length, false]);
  return runs;
}

/**
 * Applies a split behaviour to match runs, as Hugging Face's `NormalizedString::split` does.
 *
 * @example
 * // "a-b" split on "-": Isolated -> a | - | b; MergedWithPrevious -> a- | b; MergedWithNext -> a | -b
 */
export function splitRuns(
  runs: [number, number, boolean][],
  behavior: SplitBehavior,
  invert = false,
): [number, number][] {
  const marked = invert ? runs.map(([s, e, m]) => [s, e, !m] as [number, number, boolean]) : runs;
  const out: [number, number][] = [];
  switch (behavior) {
    case 'Removed':
      for (const [s, e, m] of marked) if (!m) out.push([s, e]);
      return out;
    case 'Isolated':
      for (const [s, e] of marked) out.push([s, e]);
      return out;
    case 'MergedWithPrevious': {
      let previousMatch = false;
      for (const [s, e, m] of marked) {
        if (m && !previousMatch && out.length > 0) out[out.length - 1][1] = e;
        else out.push([s, e]);
        previousMatch = m;
      }
      return out;
    }
    case 'MergedWithNext': {
      let previousMatch = false;
      for (let i = marked.length - 1; i >= 0; i--) {
        const [s, e, m] = marked[i];
        if (m && !previousMatch && out.length > 0) out[out.length - 1][0] = s;
        else out.push([s, e]);
        previousMatch = m;
      }
      return out.reverse();
    }
    case 'Contiguous': {
      let previousMatch = false;
      for (const [s, e, m] of marked) {
        if (m === previousMatch && out.length > 0) out[out.length - 1][1] = e;
        else out.push([s, e]);
        previousMatch = m;
      }
      return out;
    }
    default:
      throw new TokenizerError(
        'unsupported',
        `Split: behavior ${JSON.stringify(behavior)} is not supported`,
      );
  }
}

function splitBy(pattern: RegExp, behavior: SplitBehavior, invert = false): PreTokenizer {
  return (piece) =>
    splitRuns(findMatches(piece.text, pattern), behavior, invert)
      .filter(([s, e]) => e > s)
      .map(([s, e]) => slicePiece(piece, s, e));
}

/** GPT-2's byte-to-character table: printable bytes map to themselves, the rest to U+0100 up. */
export const BYTE_TO_CHAR: string[] = (() => {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCharCode(printable ? b : next++);
  }
  return table;
})();

const encoder = new TextEncoder();

/** GPT-2's byte-level spelling of a string: one character per UTF-8 byte. */
export function byteLevelText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      out += BYTE_TO_CHAR[code];
      continue;
    }
    if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code >= 0xd800 && code < 0xe000) code = 0xfffd; // a lone surrogate is U+FFFD in UTF-8
    if (code < 0x800) out += BYTE_TO_CHAR[0xc0 | (code >> 6)] + BYTE_TO_CHAR[0x80 | (code & 63)];
    else if (code < 0x10000)
      out +=
        BYTE_TO_CHAR[0xe0 | (code >> 12)] +
        BYTE_TO_CHAR[0x80 | ((code >> 6) & 63)] +
        BYTE_TO_CHAR[0x80 | (code & 63)];
    else
      out +=
        BYTE_TO_CHAR[0xf0 | (code >> 18)] +
        BYTE_TO_CHAR[0x80 | ((code >> 12) & 63)] +
        BYTE_TO_CHAR[0x80 | ((code >> 6) & 63)] +
        BYTE_TO_CHAR[0x80 | (code & 63)];
  }
  return out;
}

/** Rewrites a piece as GPT-2's byte-level alphabet: one character per UTF-8 byte. */
export function toByteLevel(piece: Piece): Piece {
  if (!piece.offsets) return { text: byteLevelText(piece.text), offsets: null };
  return mapChars(piece, (c) => {
    const code = c.charCodeAt(0);
    if (c.length === 1 && code < 0x80) return BYTE_TO_CHAR[code];
    let out = '';
    for (const b of encoder.encode(c)) out += BYTE_TO_CHAR[b];
    return out;
  });
}

// GPT-2's split pattern, used by ByteLevel when use_regex is true
const GPT2_SPLIT =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
// Rust's \w (Unicode): Alphabetic, marks, decimal digits, connector punctuation, join controls
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
// BERT's punctuation: ASCII symbols and Unicode P*, one character a match
const PUNCTUATION = /[\p{P}!-/:-@[-`{-~]/gu;

/**
 * The split pattern when a pre-tokenizer is the usual byte-level one (a regex split, isolated,
 * then the byte-level alphabet with no prefix space: Llama 3, Qwen, GPT-2), else null. The
 * tokenizer then runs a fast path: one regex pass and a cache from raw pieces to ids.
 */
export function byteLevelSplitPattern(json: ComponentJson | null | undefined): RegExp | null {
  if (!json) return null;
  if (json.type === 'ByteLevel')
    return json.use_regex !== false && json.add_prefix_space !== true
      ? compileOniguruma(GPT2_SPLIT, 'ByteLevel')
      : null;
  if (json.type !== 'Sequence') return null;
  const [split, byteLevel, ...rest] = (json.pretokenizers as ComponentJson[]) ?? [];
  const simpleSplit =
    split?.type === 'Split' &&
    split.behavior === 'Isolated' &&
    split.invert !== true &&
    'Regex' in (split.pattern as object);
  const plainByteLevel =
    byteLevel?.type === 'ByteLevel' &&
    byteLevel.use_regex === false &&
    byteLevel.add_prefix_space !== true;
  if (!simpleSplit || !plainByteLevel || rest.length > 0) return null;
  return compileOniguruma((split.pattern as { Regex: string }).Regex, 'Split pre-tokenizer');
}

/** Builds the pre-tokenizer a tokenizer.json describes. */
export function createPreTokenizer(json: ComponentJson): PreTokenizer {
  switch (json.type) {
    case 'Split': {
      const pattern = patternRegExp(json.pattern as PatternJson, 'Split pre-tokenizer');
      return splitBy(pattern, json.behavior as SplitBehavior, json.invert === true);
    }
    case 'ByteLevel': {
      const addPrefixSpace = json.add_prefix_space === true;
      const split =
        json.use_regex !== false
          ? splitBy(compileOniguruma(GPT2_SPLIT, 'ByteLevel'), 'Isolated')
          : null;
      return (piece) => {
        let p = piece;
        if (addPrefixSpace && !p.text.startsWith(' ')) p = prependText(p, ' ');
        const parts = split ? split(p, false) : [p];
        return parts.map(toByteLevel);
      };
    }
    case 'Metaspace': {
      const replacement = String(json.replacement ?? '\u2581');
      const scheme =
        (json.prepend_scheme as string | undefined) ??
        (json.add_prefix_space === false ? 'never' : 'always');
      const split = json.split !== false;
      const splitter = splitBy(
        new RegExp(replacement.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu'),
        'MergedWithNext',
      );
      return (piece, first) => {
        let p = mapChars(piece, (c) => (c === ' ' ? replacement : c));
        const prepend = scheme === 'always' || (scheme === 'first' && first);
        if (prepend && !p.text.startsWith(replacement)) p = prependText(p, replacement);
        return split ? splitter(p, first) : [p];
      };
    }
    case 'Whitespace':
      return splitBy(new RegExp(`[${WORD}]+|[^${WORD}\\s]+`, 'gu'), 'Removed', true);
    case 'WhitespaceSplit':
      return splitBy(/\s+/gu, 'Removed');
    case 'BertPreTokenizer': {
      // whitespace removed, then every punctuation character on its own
      const spaces = splitBy(/\s+/gu, 'Removed');
      const punctuation = splitBy(PUNCTUATION, 'Isolated');
      return (piece) => spaces(piece, false).flatMap((p) => punctuation(p, false));
    }
    case 'Punctuation':
      return splitBy(PUNCTUATION, (json.behavior as SplitBehavior) ?? 'Isolated');
    case 'Digits':
      return json.individual_digits === true
        ? splitBy(/\p{N}/gu, 'Isolated')
        : splitBy(/\p{N}+/gu, 'Isolated');
    case 'Sequence': {
      const parts = ((json.pretokenizers as ComponentJson[]) ?? []).map(createPreTokenizer);
      return (piece, first) => {
        let pieces = [piece];
        for (const part of parts) pieces = pieces.flatMap((p, i) => part(p, first && i === 0));
        return pieces;
      };
    }
    default:
      throw new TokenizerError(
        'unsupported',
        `tokenizer.json: pre-tokenizer type ${JSON.stringify(json.type)} is not supported; supported: Split, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, BertPreTokenizer, Punctuation, Digits, Sequence`,
      );
  }
}
