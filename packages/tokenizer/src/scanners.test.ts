import { describe, expect, it } from 'vitest';
import { bmpTable } from './char-class.js';
import { CL100K_PATTERN, compilePattern, GPT2_PATTERN, O200K_PATTERN } from './pattern.js';
import { scannerFor } from './scanners.js';
import { FEATURE_SAMPLES, randomUnicode, seededRandom } from './testing/corpus.js';

// Characters chosen to hit every branch: each letter category (Lu Ll Lt Lm Lo), marks, digit
// kinds, Rust-vs-JavaScript whitespace, line breaks, contraction letters (and ſ), slash,
// punctuation, and astral letters, digits and emoji.
const ALPHABET = [
  'a',
  'Z',
  'ǅ',
  'ʰ',
  'ا',
  '中',
  '\u0301',
  '\u20dd',
  '5',
  '٣',
  '½',
  ' ',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u0085',
  '\ufeff',
  '\u00a0',
  '\u3000',
  "'",
  "'",
  's',
  'S',
  'ſ',
  't',
  'r',
  'e',
  'v',
  'm',
  'l',
  'L',
  'd',
  'D',
  '/',
  '!',
  '.',
  '😀',
  '𝐀',
  '𝐚',
  '𝟙',
  '\u{1F3FD}',
  '\u200d',
];

function fuzz(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    const length = 1 + Math.floor(random() * 10);
    for (let k = 0; k < length; k++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
    out.push(s);
  }
  return out;
}

function regexPieces(re: RegExp, text: string): string[] {
  return [...text.matchAll(re)].map((m) => m[0]);
}

describe.each([
  ['gpt2', GPT2_PATTERN],
  ['cl100k_base', CL100K_PATTERN],
  ['o200k_base', O200K_PATTERN],
])('the %s scanner splits exactly as the regex', (_name, pattern) => {
  const scan = scannerFor(pattern)!;
  const re = compilePattern(pattern);
  const table = bmpTable();
  const scannerPieces = (text: string): string[] => {
    const pieces: string[] = [];
    for (let start = 0; start < text.length; ) {
      const end = scan(text, start, table);
      expect(end).toBeGreaterThan(start);
      pieces.push(text.slice(start, end));
      start = end;
    }
    return pieces;
  };

  it('on 30,000 fuzzed strings', () => {
    for (const text of fuzz(30_000, 11))
      expect(scannerPieces(text), JSON.stringify(text)).toEqual(regexPieces(re, text));
  });

  it('on the feature samples and random Unicode', () => {
    for (const text of [...FEATURE_SAMPLES, ...randomUnicode(300, 5)].map((s) =>
      s.toWellFormed(),
    )) {
      expect(scannerPieces(text), JSON.stringify(text.slice(0, 50))).toEqual(regexPieces(re, text));
    }
  });
});
