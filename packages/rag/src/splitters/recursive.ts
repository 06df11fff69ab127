// Recursive character splitting, after LangChain.js's RecursiveCharacterTextSplitter: split on the
// first separator that occurs ("\n\n", then "\n", then " ", then between characters), merge the
// pieces back into chunks of at most chunkSize with up to chunkOverlap shared, and split a piece
// that is still too long with the next separator. Separators stay attached to the start of the
// following piece (LangChain's keepSeparator), so chunks are exact slices of the source and carry
// exact offsets. Whitespace at a chunk's ends is trimmed (LangChain's stripWhitespace).
//
// Not handled: regex separators; a single code point is never cut, so an astral character makes
// a 2-unit chunk even when chunkSize is 1.
import {
  type ChunkSizeOptions,
  type Chunk,
  type Metadata,
  resolveChunkSizes,
  splitterFrom,
  type TextSplitter,
} from './chunk.js';

/** Something that turns text into token ids (an `Encoding` of @llmkit/tokenizer fits). */
export interface TokenCounter {
  /** Token ids of `text`. */
  encode(text: string): ArrayLike<number>;
}

/** Options of {@link createRecursiveCharacterSplitter}. */
export interface RecursiveCharacterSplitterOptions extends ChunkSizeOptions {
  /** Tried in order; the empty string splits between characters. Default `["\n\n", "\n", " ", ""]`. */
  separators?: string[];
  /** When given, sizes count this tokenizer's tokens instead of characters. */
  tokenizer?: TokenCounter;
}

/** A half-open range `[start, end)` of the source. */
interface Span {
  start: number;
  end: number;
}

/** The default separators of LangChain.js: paragraphs, lines, words, characters. */
export const DEFAULT_SEPARATORS: readonly string[] = ['\n\n', '\n', ' ', ''];

/**
 * Splits `text[start, end)` into spans of at most `chunkSize` (as `measure` counts) with up to
 * `chunkOverlap` shared between neighbours. Used by the recursive and the Markdown splitters.
 */
export function splitRange(
  text: string,
  range: Span,
  separators: readonly string[],
  sizes: { chunkSize: number; chunkOverlap: number },
  measure: (start: number, end: number) => number,
): Span[] {
  const out: Span[] = [];
  splitRecursive(text, range, separators, sizes, measure, out);
  // trim whitespace at the ends; drop chunks that were only whitespace
  const trimmed: Span[] = [];
  for (const span of out) {
    let { start, end } = span;
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    if (end <= start) continue;
    // with a tokenizer, trimming can change how the ends tokenize; split such a span again
    if (measure(start, end) > sizes.chunkSize && end - start < span.end - span.start) {
      trimmed.push(...splitRange(text, { start, end }, separators, sizes, measure));
    } else {
      trimmed.push({ start, end });
    }
  }
  return trimmed;
}

function splitRecursive(
  text: string,
  range: Span,
  separators: readonly string[],
  sizes: { chunkSize: number; chunkOverlap: number },
  measure: (start: number, end: number) => number,
  out: Span[],
): void {
  // the first separator that occurs in the range; the rest are for pieces still too long
  let separator = '';
  let rest: readonly string[] = [];
  for (let i = 0; i < separators.length; i++) {
    const candidate = separators[i];
    if (candidate === '') break;
    const at = text.indexOf(candidate, range.start);
    if (at !== -1 && at + candidate.length <= range.end) {
      separator = candidate;
      rest = separators.slice(i + 1);
      break;
    }
  }
  const pieces = separator === '' ? codePoints(text, range) : piecesOf(text, range, separator);
  let good: Span[] = [];
  for (const piece of pieces) {
    if (measure(piece.start, piece.end) <= sizes.chunkSize) {
      good.push(piece);
      continue;
    }
    if (good.length > 0) {
      merge(good, sizes, measure, out);
      good = [];
    }
    if (separator === '' || rest.length === 0) out.push(piece);
    else splitRecursive(text, piece, rest, sizes, measure, out);
  }
  if (good.length > 0) merge(good, sizes, measure, out);
}

/** Pieces between separators, each separator kept at the start of the piece after it. */
function piecesOf(text: string, range: Span, separator: string): Span[] {
  const pieces: Span[] = [];
  let start = range.start;
  for (
    let at = text.indexOf(separator, range.start + 1);
    at !== -1 && at < range.end;
    at = text.indexOf(separator, at + separator.length)
  ) {
    if (at + separator.length > range.end) break;
    if (at > start) pieces.push({ start, end: at });
    start = at;
  }
  if (range.end > start) pieces.push({ start, end: range.end });
  return pieces;
}

/** One span per code point (surrogate pairs stay whole). */
function codePoints(text: string, range: Span): Span[] {
  const pieces: Span[] = [];
  for (let i = range.start; i < range.end; ) {
    const code = text.charCodeAt(i);
    const width = code >= 0xd800 && code <= 0xdbff && i + 1 < range.end ? 2 : 1;
    pieces.push({ start: i, end: i + width });
    i += width;
  }
  return pieces;
}

/**
 * LangChain's mergeSplits over contiguous spans: grow a window of pieces until the next would
 * overflow chunkSize, emit it, then drop pieces from the front until what remains is at most
 * chunkOverlap (and leaves room for the next piece).
 */
function merge(
  pieces: Span[],
  sizes: { chunkSize: number; chunkOverlap: number },
  measure: (start: number, end: number) => number,
  out: Span[],
): void {
  let first = 0; // window is pieces[first .. last]
  let last = -1;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (last >= first && measure(pieces[first].start, piece.end) > sizes.chunkSize) {
      out.push({ start: pieces[first].start, end: pieces[last].end });
      while (
        first <= last &&
        (measure(pieces[first].start, pieces[last].end) > sizes.chunkOverlap ||
          measure(pieces[first].start, piece.end) > sizes.chunkSize)
      ) {
        first++;
      }
    }
    last = i;
  }
  if (last >= first) out.push({ start: pieces[first].start, end: pieces[last].end });
}

/** Builds the measure function: characters, or tokens of `tokenizer`. */
export function measureFor(
  text: string,
  tokenizer?: TokenCounter,
): (start: number, end: number) => number {
  if (!tokenizer) return (start, end) => end - start;
  return (start, end) => tokenizer.encode(text.slice(start, end)).length;
}

/** Turns spans into chunks for one source. */
export function chunksOf(
  text: string,
  spans: Span[],
  source: { id?: string; metadata?: Metadata } | undefined,
  extra?: (span: Span) => Metadata,
): Chunk[] {
  return spans.map((span, index) => ({
    text: text.slice(span.start, span.end),
    sourceId: source?.id ?? '',
    start: span.start,
    end: span.end,
    index,
    metadata: { ...source?.metadata, ...extra?.(span) },
  }));
}

/**
 * The recursive character splitter with LangChain.js's defaults (chunkSize 1000, chunkOverlap
 * 200, separators paragraph, line, space, character).
 *
 * @example
 * ```ts
 * const splitter = createRecursiveCharacterSplitter({ chunkSize: 20, chunkOverlap: 5 });
 * splitter.split('One two three four five six seven.', { id: 'doc' }).map((c) => [c.text, c.start]);
 * // [ [ 'One two three four', 0 ], [ 'four five six', 14 ], [ 'six seven.', 24 ] ]
 * ```
 */
export function createRecursiveCharacterSplitter(
  options: RecursiveCharacterSplitterOptions = {},
): TextSplitter {
  const sizes = resolveChunkSizes(options, 'createRecursiveCharacterSplitter');
  const separators = options.separators ?? DEFAULT_SEPARATORS;
  return splitterFrom((text, source) => {
    const spans = splitRange(
      text,
      { start: 0, end: text.length },
      separators,
      sizes,
      measureFor(text, options.tokenizer),
    );
    return chunksOf(text, spans, source);
  });
}
