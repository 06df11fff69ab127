// Hugging Face tokenizer models: BPE (merge list; byte-level as in GPT-2 / Llama 3 / Qwen, or
// sentencepiece-style with byte fallback as in Llama 2 / Gemma) and WordPiece (BERT). A model
// turns one pre-tokenized piece into token ids, each with the [start, end) units of the piece
// it covers.
import { TokenizerError } from '../errors.js';
import type { ModelJson } from './json.js';

/** Tokens of one piece: ids and, per token, its unit range in the piece. */
export interface ModelOutput {
  ids: Int32Array;
  /** `[start0, end0, start1, end1, ...]` in units of the piece's text. */
  ranges: Int32Array;
}

/** A tokenizer model. */
export interface TokenizerModel {
  /** Tokenizes one piece. */
  tokenize(text: string): ModelOutput;
  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined;
  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined;
  /** Number of ids in the vocabulary. */
  readonly vocabSize: number;
}

function vocabMap(json: ModelJson): Map<string, number> {
  const entries = Array.isArray(json.vocab)
    ? json.vocab.map(([t], i) => [t, i] as const)
    : Object.entries(json.vocab ?? {});
  return new Map(entries);
}

function inverse(vocab: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [token, id] of vocab) out[id] = token;
  return out;
}

/** The vocabulary both models share: token strings to ids and back. */
abstract class VocabularyModel implements TokenizerModel {
  protected readonly vocab: Map<string, number>;
  protected readonly tokens: string[];

  constructor(json: ModelJson) {
    this.vocab = vocabMap(json);
    this.tokens = inverse(this.vocab);
  }

  get vocabSize(): number {
    return this.tokens.length;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  abstract tokenize(text: string): ModelOutput;
}

const CACHE_LIMIT = 50_000;
const UTF8 = new TextEncoder();
/** Longer pieces are not cached: they rarely repeat, and a whole Gemma segment is one piece. */
const MAX_CACHED_LENGTH = 256;

/**
 * BPE over a merge list: the pair with the lowest merge rank is merged first (leftmost on ties),
 * as the Rust implementation's priority queue does.
 *
 * @example
 * // merges ["a b", "ab c"], vocab {a,b,c,ab,abc}: tokenize("abcab") -> ids of [abc, ab]
 */
export class BpeModel extends VocabularyModel {
  /** (left id * stride + right id) -> merge rank. */
  private readonly ranks = new Map<number, number>();
  /** merge rank -> id of the merged token. */
  private readonly merged: Int32Array;
  private readonly stride: number;
  private readonly unkId: number | undefined;
  private readonly byteIds: Int32Array | null;
  private readonly cache = new Map<string, ModelOutput>();
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(private readonly json: ModelJson) {
    super(json);
    this.stride = this.tokens.length + 1;
    const merges = json.merges ?? [];
    this.merged = new Int32Array(merges.length);
    merges.forEach((merge, rank) => {
      const [left, right] = typeof merge === 'string' ? splitMerge(merge) : merge;
      const a = this.vocab.get(left);
      const b = this.vocab.get(right);
      const c = this.vocab.get(left + right);
      if (a === undefined || b === undefined || c === undefined)
        throw new TokenizerError(
          'corrupt_file',
          `tokenizer.json: merge ${rank} (${JSON.stringify(merge)}) names a token missing from the vocabulary`,
        );
      const key = a * this.stride + b;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
      this.merged[rank] = c;
    });
    this.unkId = json.unk_token != null ? this.vocab.get(json.unk_token) : undefined;
    this.prefix = json.continuing_subword_prefix ?? '';
    this.suffix = json.end_of_word_suffix ?? '';
    if (json.byte_fallback) {
      this.byteIds = new Int32Array(256).fill(-1);
      for (let b = 0; b < 256; b++) {
        const id = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
        if (id !== undefined) this.byteIds[b] = id;
      }
    } else this.byteIds = null;
  }

  tokenize(text: string): ModelOutput {
    const hit = this.cache.get(text);
    if (hit) return hit;
    const out = this.encodeWord(text);
    if (text.length > MAX_CACHED_LENGTH) return out;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(text, out);
    return out;
  }

  private encodeWord(text: string): ModelOutput {
    if (this.json.ignore_merges) {
      const whole = this.vocab.get(text);
      if (whole !== undefined)
        return { ids: Int32Array.of(whole), ranges: Int32Array.of(0, text.length) };
    }
    // initial symbols: one per code point (with prefix / suffix), byte fallback or unk
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < text.length; ) {
      const width = text.codePointAt(i)! > 0xffff ? 2 : 1;
      let symbol = text.slice(i, i + width);
      if (i > 0 && this.prefix) symbol = this.prefix + symbol;
      if (i + width === text.length && this.suffix) symbol += this.suffix;
      const id = this.vocab.get(symbol);
      if (id !== undefined) {
        ids.push(id);
        starts.push(i);
        ends.push(i + width);
      } else if (
        this.byteIds &&
        UTF8.encode(text.slice(i, i + width)).every((b) => this.byteIds![b] >= 0)
      ) {
        for (const b of UTF8.encode(text.slice(i, i + width))) {
          ids.push(this.byteIds[b]);
          starts.push(i);
          ends.push(i + width);
        }
      } else if (this.unkId !== undefined) {
        if (this.json.fuse_unk && ids.length > 0 && ids[ids.length - 1] === this.unkId)
          ends[ends.length - 1] = i + width;
        else {
          ids.push(this.unkId);
          starts.push(i);
          ends.push(i + width);
        }
      }
      // no unk token: the character is dropped, as in the Rust implementation
      i += width;
    }
    this.mergeAll(ids, starts, ends);
    const ranges = new Int32Array(2 * ids.length);
    for (let k = 0; k < ids.length; k++) {
      ranges[2 * k] = starts[k];
      ranges[2 * k + 1] = ends[k];
    }
    return { ids: Int32Array.from(ids), ranges };
  }

  private rank(a: number, b: number): number {
    const r = this.ranks.get(a * this.stride + b);
    return r === undefined ? Number.MAX_SAFE_INTEGER : r;
  }

  /** Merges symbols in place, lowest rank first (leftmost on ties). */
  private mergeAll(ids: number[], starts: number[], ends: number[]): void {
    if (ids.length < 2) return;
    if (ids.length > 48) {
      this.mergeWithHeap(ids, starts, ends);
      return;
    }
    const ranks: number[] = [];
    for (let i = 0; i + 1 < ids.length; i++) ranks.push(this.rank(ids[i], ids[i + 1]));
    for (;;) {
      let best = Number.MAX_SAFE_INTEGER;
      let at = -1;
      for (let i = 0; i < ranks.length; i++) if (ranks[i] < best) [best, at] = [ranks[i], i];
      if (at < 0) return;
      ids[at] = this.merged[best];
      ends[at] = ends[at + 1];
      ids.splice(at + 1, 1);
      starts.splice(at + 1, 1);
      ends.splice(at + 1, 1);
      ranks.splice(at, 1);
      if (at > 0) ranks[at - 1] = this.rank(ids[at - 1], ids[at]);
      if (at < ranks.length) ranks[at] = this.rank(ids[at], ids[at + 1]);
    }
  }

  /**
   * The same merges for long words (a whole Gemma segment is one word): a linked list of symbols
   * and a binary heap of keys `rank * 2^32 + position` in a Float64Array (exact below 2^53); an
   * entry whose pair has changed since it was pushed is skipped when popped.
   */
  private mergeWithHeap(ids: number[], starts: number[], ends: number[]): void {
    const n = ids.length;
    const next = new Int32Array(n);
    const previous = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      previous[i] = i - 1;
    }
    const alive = new Uint8Array(n).fill(1);
    const symbol = Int32Array.from(ids);
    const end = Int32Array.from(ends);
    const SHIFT = 2 ** 32;
    let heap = new Float64Array(n);
    let size = 0;
    const push = (key: number) => {
      if (size === heap.length) {
        const bigger = new Float64Array(2 * heap.length);
        bigger.set(heap);
        heap = bigger;
      }
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent] <= key) break;
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = key;
    };
    const pop = () => {
      const top = heap[0];
      const last = heap[--size];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) break;
        const m = l + 1 < size && heap[l + 1] < heap[l] ? l + 1 : l;
        if (heap[m] >= last) break;
        heap[i] = heap[m];
        i = m;
      }
      heap[i] = last;
      return top;
    };
    const consider = (i: number) => {
      const j = next[i];
      if (j < 0) return;
      const r = this.rank(symbol[i], symbol[j]);
      if (r !== Number.MAX_SAFE_INTEGER) push(r * SHIFT + i);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (size > 0) {
      const key = pop();
      const rank = Math.floor(key / SHIFT);
      const i = key - rank * SHIFT;
      const j = next[i];
      if (!alive[i] || j < 0 || this.rank(symbol[i], symbol[j]) !== rank) continue;
      symbol[i] = this.merged[rank];
      end[i] = end[j];
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) previous[next[j]] = i;
      if (previous[i] >= 0) consider(previous[i]);
      consider(i);
    }
    ids.length = 0;
    const startsCopy = starts.slice();
    starts.length = 0;
    ends.length = 0;
    for (let i = 0; i >= 0; i = next[i]) {
      ids.push(symbol[i]);
      starts.push(startsCopy[i]);
      ends.push(end[i]);
    }
  }
}

function splitMerge(merge: string): [string, string] {
  const at = merge.indexOf(' ', 1);
  if (at < 0)
    throw new TokenizerError(
      'corrupt_file',
      `tokenizer.json: merge ${JSON.stringify(merge)} is not "left right"`,
    );
  return [merge.slice(0, at), merge.slice(at + 1)];
}

/**
 * WordPiece (BERT): greedy longest match first, continuation pieces prefixed `##`; a word with
 * no complete segmentation, or longer than `max_input_chars_per_word`, becomes the unk token.
 *
 * @example
 * // vocab {un, ##aff, ##able}: tokenize("unaffable") -> [un, ##aff, ##able]
 */
export class WordPieceModel extends VocabularyModel {
  private readonly unkId: number;
  private readonly prefix: string;
  private readonly maxChars: number;

  constructor(json: ModelJson) {
    super(json);
    const unk = json.unk_token ?? '[UNK]';
    const unkId = this.vocab.get(unk);
    if (unkId === undefined)
      throw new TokenizerError(
        'corrupt_file',
        `tokenizer.json: WordPiece unk_token ${JSON.stringify(unk)} is not in the vocabulary`,
      );
    this.unkId = unkId;
    this.prefix = json.continuing_subword_prefix ?? '##';
    this.maxChars = json.max_input_chars_per_word ?? 100;
  }

  tokenize(text: string): ModelOutput {
    const unk = { ids: Int32Array.of(this.unkId), ranges: Int32Array.of(0, text.length) };
    if ([...text].length > this.maxChars) return unk;
    const ids: number[] = [];
    const ranges: number[] = [];
    for (let start = 0; start < text.length; ) {
      let found = -1;
      let end = text.length;
      for (; end > start; end--) {
        if (end < text.length && text.charCodeAt(end) >= 0xdc00 && text.charCodeAt(end) <= 0xdfff)
          continue;
        const candidate = start > 0 ? this.prefix + text.slice(start, end) : text.slice(start, end);
        const id = this.vocab.get(candidate);
        if (id !== undefined) {
          found = id;
          break;
        }
      }
      if (found < 0) return unk;
      ids.push(found);
      ranges.push(start, end);
      start = end;
    }
    return { ids: Int32Array.from(ids), ranges: Int32Array.from(ranges) };
  }
}

/** Builds the model a tokenizer.json describes. */
export function createModel(json: ModelJson): TokenizerModel {
  if (json?.type === 'BPE' || (json && json.type === undefined && json.merges))
    return new BpeModel(json);
  if (json?.type === 'WordPiece') return new WordPieceModel(json);
  throw new TokenizerError(
    'unsupported',
    `tokenizer.json: model type ${JSON.stringify(json?.type)} is not supported; supported: BPE, WordPiece (Unigram, used by T5 and XLNet, is not)`,
  );
}
