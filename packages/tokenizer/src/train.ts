import type { RankMap } from './bpe.js';
import { Encoding } from './encoding.js';
import { TokenizerError } from './errors.js';
import { BinaryHeap } from './heap.js';
import { CL100K_PATTERN, compilePattern } from './pattern.js';

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Total vocabulary size: 256 byte tokens + merges + special tokens. Training stops early when no pair is left to merge. */
  vocabSize: number;
  /** Pre-tokenizer pattern (tiktoken syntax). Default: GPT-4's (`cl100k_base`), as minbpe. */
  pattern?: string;
  /** Special token strings; they get the ids after the mergeable tokens, in the order given. */
  specialTokens?: readonly string[];
  /** Name of the resulting encoding. Default `'trained'`. */
  name?: string;
}

// A pair of token ids packed into one number (ids < 2^21, so the product is exact).
const PAIR = 2 ** 21;

/**
 * Trains a byte-level BPE vocabulary on `text`: split with the pattern, count distinct pieces,
 * then repeatedly merge the most frequent adjacent pair (ties: smallest left id, then smallest
 * right id, so training is deterministic). Pair counts are updated incrementally, touching only
 * the pieces that contain the merged pair, and a lazy max-heap finds the next pair.
 *
 * @example
 * ```ts
 * const enc = trainBpe('low lower lowest', { vocabSize: 260 });
 * enc.encode('lowest'); // [257, 101, 115, 116]: 256 is "lo", 257 "low", the rest single bytes
 * ```
 */
export function trainBpe(text: string, options: TrainBpeOptions): Encoding {
  const specials = options.specialTokens ?? [];
  const pattern = options.pattern ?? CL100K_PATTERN;
  const { vocabSize } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length || vocabSize >= PAIR) {
    throw new TokenizerError(
      'invalid_config',
      `trainBpe: vocabSize ${vocabSize} must be an integer from ${256 + specials.length} (256 bytes + ${specials.length} special tokens) to ${PAIR - 1}`,
    );
  }
  const mergeCount = vocabSize - 256 - specials.length;

  // 1. distinct pieces and their counts
  const pieceCounts = new Map<string, number>();
  const splitter = compilePattern(pattern);
  const well = text.isWellFormed() ? text : text.toWellFormed();
  for (const m of well.matchAll(splitter)) pieceCounts.set(m[0], (pieceCounts.get(m[0]) ?? 0) + 1);
  const encoder = new TextEncoder();
  const words: number[][] = [];
  const wordCounts: number[] = [];
  for (const [piece, count] of pieceCounts) {
    words.push(Array.from(encoder.encode(piece)));
    wordCounts.push(count);
  }

  // 2. pair counts and where each pair occurs
  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number): void => {
    const symbols = words[w];
    for (let i = 0; i + 1 < symbols.length; i++) {
      const pair = symbols[i] * PAIR + symbols[i + 1];
      pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + sign * wordCounts[w]);
      if (sign > 0) {
        const set = where.get(pair);
        if (set) set.add(w);
        else where.set(pair, new Set([w]));
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  // most frequent first; ties broken by the smaller packed pair (left id, then right id)
  const heap = new BinaryHeap<{ count: number; pair: number }>(
    (a, b) => a.count > b.count || (a.count === b.count && a.pair < b.pair),
  );
  for (const [pair, count] of pairCounts) heap.push({ count, pair });

  // 3. merges
  const tokenBytes: string[] = [];
  for (let b = 0; b < 256; b++) tokenBytes.push(String.fromCharCode(b));
  const ranks: RankMap = new Map(tokenBytes.map((bytes, id) => [bytes, id]));
  while (tokenBytes.length < 256 + mergeCount && heap.size > 0) {
    const { count, pair } = heap.pop();
    if (pairCounts.get(pair) !== count || count <= 0) continue; // stale entry
    const left = Math.floor(pair / PAIR);
    const right = pair % PAIR;
    const bytes = tokenBytes[left] + tokenBytes[right];
    // (ab, c) and (a, bc) spell the same bytes: reuse the id rather than add a duplicate token
    let id = ranks.get(bytes);
    if (id === undefined) {
      id = tokenBytes.length;
      tokenBytes.push(bytes);
      ranks.set(bytes, id);
    }
    const touched = new Set<number>();
    for (const w of where.get(pair) ?? []) {
      const symbols = words[w];
      addPairs(w, -1);
      const merged: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          merged.push(id);
          i++;
        } else merged.push(symbols[i]);
      }
      words[w] = merged;
      addPairs(w, 1);
      for (let i = 0; i + 1 < merged.length; i++) touched.add(merged[i] * PAIR + merged[i + 1]);
    }
    where.delete(pair);
    pairCounts.delete(pair);
    for (const p of touched) {
      const c = pairCounts.get(p)!;
      if (c > 0) heap.push({ count: c, pair: p });
    }
  }

  const specialTokens: Record<string, number> = {};
  for (const [i, token] of specials.entries()) specialTokens[token] = tokenBytes.length + i;
  return new Encoding({ name: options.name ?? 'trained', pattern, ranks, specialTokens });
}
