// A piece of text on its way through a Hugging Face tokenizer pipeline (normalizer ->
// pre-tokenizer -> model), with where each of its UTF-16 units came from in the input, so that
// tokens can report offsets into the original text.
//
// `offsets` holds two entries per unit of `text`: the [start, end) range of the original text
// that the unit stands for. It is null when offsets are not wanted (the fast path of `encode`):
// every transform then only rewrites `text`.

/** Text plus, per UTF-16 unit, the range of the original input it came from. */
export interface Piece {
  /** The text as transformed so far. */
  text: string;
  /** `[start0, end0, start1, end1, ...]`, two per unit of `text`, or null when not tracked. */
  offsets: Int32Array | null;
}

/** A piece for `input[start, end)` as is. */
export function pieceOf(input: string, start: number, end: number, track: boolean): Piece {
  const text = input.slice(start, end);
  if (!track) return { text, offsets: null };
  const offsets = new Int32Array(2 * text.length);
  for (let i = 0; i < text.length; i++) {
    offsets[2 * i] = start + i;
    offsets[2 * i + 1] = start + i + 1;
  }
  return { text, offsets };
}

/** The sub-piece `piece.text[from, to)`. */
export function slicePiece(piece: Piece, from: number, to: number): Piece {
  return {
    text: piece.text.slice(from, to),
    offsets: piece.offsets ? piece.offsets.slice(2 * from, 2 * to) : null,
  };
}

/**
 * Rewrites a piece code point by code point: `map(char)` gives the replacement text of each
 * code point, and each unit of a replacement takes the offsets of the code point it replaces.
 *
 * @example
 * mapChars({ text: 'a b', offsets }, (c) => (c === ' ' ? '\u2581' : c)).text // 'a\u2581b'
 */
export function mapChars(piece: Piece, map: (char: string) => string): Piece {
  const { text, offsets } = piece;
  let out = '';
  const outOffsets: number[] | null = offsets ? [] : null;
  for (let i = 0; i < text.length; ) {
    const code = text.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    const replacement = map(width === 1 ? text[i] : text.slice(i, i + 2));
    out += replacement;
    if (offsets && outOffsets) {
      const start = offsets[2 * i];
      const end = offsets[2 * (i + width) - 1];
      for (let k = 0; k < replacement.length; k++) outOffsets.push(start, end);
    }
    i += width;
  }
  return { text: out, offsets: outOffsets ? Int32Array.from(outOffsets) : null };
}

/** Adds `prefix` before the piece; its units take the offsets of the piece's first unit. */
export function prependText(piece: Piece, prefix: string): Piece {
  if (!piece.offsets) return { text: prefix + piece.text, offsets: null };
  const offsets = new Int32Array(2 * (prefix.length + piece.text.length));
  const first = piece.offsets.length > 0 ? piece.offsets[0] : 0;
  for (let i = 0; i < prefix.length; i++) {
    offsets[2 * i] = first;
    offsets[2 * i + 1] = first;
  }
  offsets.set(piece.offsets, 2 * prefix.length);
  return { text: prefix + piece.text, offsets };
}

/**
 * Replaces every match of `pattern` (a global RegExp) by `content`; the units of a replacement
 * take the range of the whole match.
 */
export function replaceMatches(piece: Piece, pattern: RegExp, content: string): Piece {
  const { text, offsets } = piece;
  pattern.lastIndex = 0;
  if (!pattern.test(text)) return piece;
  pattern.lastIndex = 0;
  let out = '';
  const outOffsets: number[] | null = offsets ? [] : null;
  let last = 0;
  const keep = (from: number, to: number) => {
    out += text.slice(from, to);
    if (offsets && outOffsets)
      for (let i = from; i < to; i++) outOffsets.push(offsets[2 * i], offsets[2 * i + 1]);
  };
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m[0].length === 0) {
      pattern.lastIndex++;
      continue;
    }
    keep(last, m.index);
    out += content;
    if (offsets && outOffsets) {
      const start = offsets[2 * m.index];
      const end = offsets[2 * (m.index + m[0].length) - 1];
      for (let k = 0; k < content.length; k++) outOffsets.push(start, end);
    }
    last = m.index + m[0].length;
  }
  keep(last, text.length);
  return { text: out, offsets: outOffsets ? Int32Array.from(outOffsets) : null };
}

/**
 * Applies a whole-string transform that may reorder or merge units (Unicode normalization):
 * exact text always; offsets kept per run of a base character and its combining marks when the
 * transform acts run by run (it does for NFC/NFD/NFKC/NFKD on everything but rare Hangul jamo
 * sequences), otherwise every unit gets the range of the whole piece.
 */
export function transformText(piece: Piece, transform: (text: string) => string): Piece {
  const whole = transform(piece.text);
  if (whole === piece.text) return piece;
  if (!piece.offsets) return { text: whole, offsets: null };
  const runs = piece.text.match(/\P{M}\p{M}*|\p{M}+/gu) ?? [];
  const outOffsets: number[] = [];
  let out = '';
  let at = 0;
  for (const run of runs) {
    const replaced = transform(run);
    out += replaced;
    const start = piece.offsets[2 * at];
    const end = piece.offsets[2 * (at + run.length) - 1];
    for (let k = 0; k < replaced.length; k++) outOffsets.push(start, end);
    at += run.length;
  }
  if (out !== whole) {
    const start = piece.offsets[0];
    const end = piece.offsets[piece.offsets.length - 1];
    const offsets = new Int32Array(2 * whole.length);
    for (let i = 0; i < whole.length; i++) {
      offsets[2 * i] = start;
      offsets[2 * i + 1] = end;
    }
    return { text: whole, offsets };
  }
  return { text: whole, offsets: Int32Array.from(outOffsets) };
}
