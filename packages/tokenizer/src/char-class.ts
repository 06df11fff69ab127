/**
 * Unicode classes the pre-tokenizers ask about, as bit flags per code point: a table for the
 * Basic Multilingual Plane (built once, on first use, in about 10 ms, from the JavaScript
 * engine's own Unicode property data) and a small cache for astral code points.
 */

/** `\p{L}` */
export const LETTER = 1;
/** `\p{N}` */
export const NUMBER = 2;
/** `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`: o200k's "upper" class. */
export const UPPER = 4;
/** `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`: o200k's "lower" class. */
export const LOWER = 8;
/** Unicode White_Space, Rust's `\s` (it includes U+0085 and excludes U+FEFF). */
export const SPACE = 16;

const CLASSES: [RegExp, number][] = [
  [/\p{L}+/gu, LETTER],
  [/\p{N}+/gu, NUMBER],
  [/[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+/gu, UPPER],
  [/[\p{Ll}\p{Lm}\p{Lo}\p{M}]+/gu, LOWER],
  [/[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu, SPACE],
];

let bmp: Uint8Array | undefined;
const astral = new Map<number, number>();

function buildBmpTable(): Uint8Array {
  const table = new Uint8Array(0x10000);
  // every BMP code unit, surrogates replaced by NUL so the string is well formed
  const units = new Uint16Array(0x10000);
  for (let c = 0; c < 0x10000; c++) units[c] = c >= 0xd800 && c < 0xe000 ? 0 : c;
  let all = '';
  for (let c = 0; c < 0x10000; c += 4096)
    all += String.fromCharCode.apply(null, units.subarray(c, c + 4096) as unknown as number[]);
  for (const [re, bit] of CLASSES) {
    for (const m of all.matchAll(re))
      for (let i = m.index; i < m.index + m[0].length; i++) table[i] |= bit;
  }
  return table;
}

function astralFlags(codePoint: number): number {
  let flags = astral.get(codePoint);
  if (flags === undefined) {
    const char = String.fromCodePoint(codePoint);
    flags = 0;
    for (const [re, bit] of CLASSES) {
      re.lastIndex = 0;
      if (re.test(char)) flags |= bit;
    }
    astral.set(codePoint, flags);
  }
  return flags;
}

/** The class table of the BMP (built on first call). */
export function bmpTable(): Uint8Array {
  if (bmp === undefined) bmp = buildBmpTable();
  return bmp;
}

/**
 * Flags of the code point starting at `text[i]`; `table` is {@link bmpTable}. The text must be
 * well formed (no lone surrogates).
 */
export function flagsAt(text: string, i: number, table: Uint8Array): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c >= 0xe000) return table[c];
  return astralFlags(text.codePointAt(i)!);
}

/** UTF-16 length of the code point starting at `text[i]`. */
export function widthAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c < 0xdc00 ? 2 : 1;
}
