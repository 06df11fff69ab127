// The GPT-2 vocabulary in the form llama.cpp's BPE tokenizer reads: token strings in GPT-2's
// byte-to-unicode alphabet (a space becomes 'Ġ') and the merge list "left right" in rank order.
// tiktoken-style encodings store only ranks, so each merge is recovered as Hugging Face's converter
// does: byte-pair-encode the token with the merges of lower rank; the last two parts are its merge.
import type { Encoding } from '@llmkit/tokenizer';

/**
 * GPT-2's `bytes_to_unicode`: printable bytes map to themselves, the other 68 bytes to code points
 * 256 and up, so every byte string is a printable string. `byteToUnicode()[32] === 'Ġ'`.
 */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable.includes(b) ? b : next++);
  return table;
}

/** Splits a token (binary string) into the two tokens whose merge made it, using lower ranks only. */
function lastMerge(
  token: string,
  ranks: ReadonlyMap<string, number>,
  maxRank: number,
): [string, string] | null {
  let parts = Array.from(token);
  for (;;) {
    let best = -1;
    let bestRank = maxRank;
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = ranks.get(parts[i] + parts[i + 1]);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) break;
    parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
  }
  return parts.length === 2 ? [parts[0], parts[1]] : null;
}

/** Token strings (by id), token types (1 normal, 3 control) and merges of a byte-level BPE encoding. */
export function ggufVocabulary(encoding: Encoding): {
  tokens: string[];
  types: number[];
  merges: string[];
} {
  const unicode = byteToUnicode();
  const show = (binary: string) => Array.from(binary, (ch) => unicode[ch.charCodeAt(0)]).join('');
  const ranks = new Map<string, number>(encoding.mergeableRanks());
  const size = encoding.vocabSize;
  const tokens: string[] = new Array(size).fill('');
  const types: number[] = new Array(size).fill(1);
  const byRank: [string, number][] = [...ranks.entries()].sort((a, b) => a[1] - b[1]);
  for (const [bytes, id] of byRank) tokens[id] = show(bytes);
  for (const [text, id] of Object.entries(encoding.specialTokens)) {
    tokens[id] = text;
    types[id] = 3;
  }
  const merges: string[] = [];
  for (const [bytes, rank] of byRank) {
    if (bytes.length < 2) continue;
    const pair = lastMerge(bytes, ranks, rank);
    if (pair) merges.push(`${show(pair[0])} ${show(pair[1])}`);
  }
  return { tokens, types, merges };
}
