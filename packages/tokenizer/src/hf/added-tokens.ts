// Added tokens (special tokens such as `<|im_start|>` and extra vocabulary) are cut out of the
// input before normalization, as Hugging Face does: leftmost match first, the longest token at
// a position wins; `lstrip` / `rstrip` take the whitespace beside a match into it; `single_word`
// matches only outside words.
import type { AddedTokenJson } from './json.js';

/** A run of the input: plain text `[start, end)`, or an added token's id. */
export type Segment = { start: number; end: number; id: number | null };

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/** A trie node over UTF-16 units; `tokens` end here. */
interface TrieNode {
  children: Map<number, TrieNode>;
  tokens: AddedTokenJson[];
}

/** Splits input text on added tokens. */
export class AddedTokenSplitter {
  private readonly root: TrieNode = { children: new Map(), tokens: [] };
  private readonly empty: boolean;

  constructor(tokens: readonly AddedTokenJson[]) {
    for (const token of tokens) {
      if (token.content.length === 0) continue;
      let node = this.root;
      for (let k = 0; k < token.content.length; k++) {
        const unit = token.content.charCodeAt(k);
        let child = node.children.get(unit);
        if (!child) {
          child = { children: new Map(), tokens: [] };
          node.children.set(unit, child);
        }
        node = child;
      }
      node.tokens.push(token);
    }
    this.empty = this.root.children.size === 0;
  }

  /** The longest added token that matches at `i` (and whose word rules hold), or undefined. */
  private matchAt(text: string, i: number): AddedTokenJson | undefined {
    let node = this.root.children.get(text.charCodeAt(i));
    let best: AddedTokenJson | undefined;
    for (let k = i + 1; node; k++) {
      for (const t of node.tokens)
        if (!t.single_word || (!isWordChar(text[i - 1]) && !isWordChar(text[k]))) best = t;
      if (k >= text.length) break;
      node = node.children.get(text.charCodeAt(k));
    }
    return best;
  }

  /**
   * Cuts `text` into segments.
   *
   * @example
   * // with <|im_start|> = 151644: split('<|im_start|>user') ->
   * // [{ start: 0, end: 12, id: 151644 }, { start: 12, end: 16, id: null }]
   */
  split(text: string): Segment[] {
    if (this.empty) return [{ start: 0, end: text.length, id: null }];
    const out: Segment[] = [];
    let plainStart = 0;
    for (let i = 0; i < text.length; ) {
      const token = this.root.children.has(text.charCodeAt(i)) ? this.matchAt(text, i) : undefined;
      if (!token) {
        i++;
        continue;
      }
      let start = i;
      let end = i + token.content.length;
      if (token.lstrip) while (start > plainStart && /\s/u.test(text[start - 1])) start--;
      if (token.rstrip) while (end < text.length && /\s/u.test(text[end])) end++;
      if (start > plainStart) out.push({ start: plainStart, end: start, id: null });
      out.push({ start, end, id: token.id });
      plainStart = end;
      i = end;
    }
    if (plainStart < text.length) out.push({ start: plainStart, end: text.length, id: null });
    return out;
  }
}
