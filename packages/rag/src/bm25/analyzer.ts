// The text analyzer of the BM25 index: text -> terms. Steps, in order:
//   1. split into words: runs of Unicode letters, marks and digits (so "naïve", "Größe", "日本" and
//      "m2" are words; punctuation and symbols separate them);
//   2. lowercase (locale-independent);
//   3. drop stop words (English by default) and words shorter than minLength;
//   4. stem with the Porter stemmer (the `stemmer` package), so "flows", "flowing" -> "flow".
// Worked example: "The Boundary-Layers are flowing." -> ["boundari", "layer", "flow"].
import { stemmer } from 'stemmer';
import { ENGLISH_STOP_WORDS } from './stop-words.js';

/** Turns a text into the terms an index stores and a query matches. */
export type Analyzer = (text: string) => string[];

/** Settings of the built-in analyzer; plain data, so a saved index can rebuild it. */
export interface AnalyzerOptions {
  /** Lowercase words before anything else. Default true. */
  lowercase?: boolean;
  /** Words to drop: `'english'` (default), your own list, or `false` to keep every word. */
  stopWords?: 'english' | string[] | false;
  /** Stem with the Porter stemmer. Default true. */
  stem?: boolean;
  /** Drop words shorter than this many characters. Default 1 (keep all). */
  minLength?: number;
}

const WORD = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * Builds the analyzer described by `options`.
 *
 * @example
 * ```ts
 * createAnalyzer()('The Boundary-Layers are flowing.'); // [ 'boundari', 'layer', 'flow' ]
 * ```
 */
export function createAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const lowercase = options.lowercase ?? true;
  const stem = options.stem ?? true;
  const minLength = options.minLength ?? 1;
  const stopWords: ReadonlySet<string> =
    options.stopWords === false
      ? new Set()
      : Array.isArray(options.stopWords)
        ? new Set(options.stopWords.map((w) => (lowercase ? w.toLowerCase() : w)))
        : ENGLISH_STOP_WORDS;
  // stemming is the slow step; words repeat a lot, so remember them
  const stems = new Map<string, string>();
  return (text) => {
    const terms: string[] = [];
    for (const match of text.matchAll(WORD)) {
      let word = match[0];
      if (lowercase) word = word.toLowerCase();
      if (word.length < minLength || stopWords.has(word)) continue;
      if (stem) {
        let stemmed = stems.get(word);
        if (stemmed === undefined) {
          stemmed = stemmer(word);
          if (stems.size < 200_000) stems.set(word, stemmed);
        }
        word = stemmed;
      }
      terms.push(word);
    }
    return terms;
  };
}
