import { bytePairEncode, type RankMap } from './bpe.js';
import { TokenizerError } from './errors.js';
import { bmpTable } from './char-class.js';
import { compilePattern } from './pattern.js';
import { IdBuffer } from './id-buffer.js';
import { MAX_CACHED_PIECE, PieceCache } from './piece-cache.js';
import { type Scanner, scannerFor } from './scanners.js';

/** Which special tokens `encode` may produce or must reject: `'all'` or a list of token strings. */
export type SpecialTokenSet = 'all' | readonly string[];

/** Options of {@link Encoding.encode}, with tiktoken's semantics. */
export interface EncodeOptions {
  /** Special tokens that are encoded as their special id when found in the text. Default: none. */
  allowedSpecial?: SpecialTokenSet;
  /**
   * Special tokens whose presence in the text is an error (so user text cannot inject them).
   * Default `'all'`: every special token not in `allowedSpecial`.
   */
  disallowedSpecial?: SpecialTokenSet;
}

/** Everything that defines a byte-level BPE encoding. */
export interface EncodingSpec {
  /** Name, such as `cl100k_base`. */
  name: string;
  /** Pre-tokenizer pattern in tiktoken's (Rust `fancy-regex`) syntax. */
  pattern: string;
  /** Mergeable ranks: binary string of the token's bytes (one char per byte) to id. */
  ranks: RankMap;
  /** Special token strings to ids. */
  specialTokens: Record<string, number>;
}

const utf8 = new TextEncoder();
// ignoreBOM: keep a leading U+FEFF as text, as tiktoken does (TextDecoder strips it by default)
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const ASCII = /^[\x00-\x7f]*$/;
let scratch = new Uint8Array(1024);

/** The UTF-8 bytes of `text` as a binary string (one char per byte). */
function binaryString(text: string): string {
  if (ASCII.test(text)) return text;
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const { written } = utf8.encodeInto(text, scratch);
  let s = '';
  for (let i = 0; i < written; i += 8192) {
    s += String.fromCharCode.apply(
      null,
      scratch.subarray(i, Math.min(written, i + 8192)) as unknown as number[],
    );
  }
  return s;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A byte-level BPE encoding: text to token ids and back, with ids identical to tiktoken's for
 * the OpenAI encodings. Get one with {@link getEncoding} or train one with {@link trainBpe}.
 *
 * @example
 * ```ts
 * const enc = getEncoding('cl100k_base');
 * enc.encode('hello world'); // [15339, 1917]
 * enc.decode([15339, 1917]); // 'hello world'
 * ```
 */
export class Encoding {
  /** Name of the encoding, such as `cl100k_base`. */
  readonly name: string;
  /** The pre-tokenizer pattern, in tiktoken's syntax. */
  readonly pattern: string;
  /** Special token strings and their ids. */
  readonly specialTokens: Readonly<Record<string, number>>;
  /** One past the largest id, mergeable or special (tiktoken's `n_vocab`). */
  readonly vocabSize: number;

  private readonly ranks: RankMap;
  private readonly splitter: RegExp;
  // the same pattern, sticky: `test` from a position gives the piece's end without a match object
  private readonly sticky: RegExp;
  // hand-written equivalent of the pattern, when it is one of OpenAI's (about 3x faster)
  private readonly scanner: Scanner | undefined;
  private readonly cache = new PieceCache();
  private readonly buffer = new IdBuffer();
  private readonly specialIds = new Map<number, string>();
  private decoderTable: Uint8Array[] | undefined;

  constructor(spec: EncodingSpec) {
    this.name = spec.name;
    this.pattern = spec.pattern;
    this.ranks = spec.ranks;
    this.specialTokens = Object.freeze({ ...spec.specialTokens });
    this.splitter = compilePattern(spec.pattern);
    this.sticky = new RegExp(this.splitter.source, 'uy');
    this.scanner = scannerFor(spec.pattern);
    let maxId = -1;
    for (const id of spec.ranks.values()) if (id > maxId) maxId = id;
    for (const [token, id] of Object.entries(spec.specialTokens)) {
      this.specialIds.set(id, token);
      if (id > maxId) maxId = id;
    }
    for (let b = 0; b < 256; b++) {
      if (!spec.ranks.has(String.fromCharCode(b))) {
        throw new TokenizerError(
          'invalid_vocabulary',
          `Encoding ${spec.name}: byte ${b} has no rank; byte-level BPE needs all 256`,
        );
      }
    }
    this.vocabSize = maxId + 1;
  }

  /**
   * Encodes text, treating special-token strings as tiktoken does: those in `allowedSpecial`
   * become their special id; those in `disallowedSpecial` (default: all others) throw.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const specials = Object.keys(this.specialTokens);
    const allowed = new Set(
      options.allowedSpecial === 'all' ? specials : (options.allowedSpecial ?? []),
    );
    const disallowedOption = options.disallowedSpecial ?? 'all';
    const disallowed = (disallowedOption === 'all' ? specials : disallowedOption).filter(
      (s) => !allowed.has(s),
    );
    for (const token of disallowed) {
      const at = text.indexOf(token);
      if (at >= 0) {
        throw new TokenizerError(
          'disallowed_special_token',
          `Encoding ${this.name}: the text contains the special token ${JSON.stringify(token)} at offset ${at}; ` +
            `pass allowedSpecial: ['${token}'] (or 'all') to encode it as a special token, or disallowedSpecial: [] to encode it as text`,
        );
      }
    }
    if (allowed.size === 0) return this.encodeOrdinary(text);
    const splitter = new RegExp([...allowed].map(escapeRegExp).join('|'), 'g');
    const out = this.buffer;
    out.length = 0;
    let start = 0;
    for (const match of text.matchAll(splitter)) {
      this.encodeOrdinaryInto(text.slice(start, match.index), out);
      out.push(this.specialTokens[match[0]]);
      start = match.index + match[0].length;
    }
    this.encodeOrdinaryInto(text.slice(start), out);
    return out.toArray();
  }

  /** Encodes text with special-token strings treated as plain text. Never throws. */
  encodeOrdinary(text: string): number[] {
    this.buffer.length = 0;
    this.encodeOrdinaryInto(text, this.buffer);
    return this.buffer.toArray();
  }

  /** Number of tokens `encodeOrdinary(text)` gives, without keeping them. */
  countTokens(text: string): number {
    this.buffer.length = 0;
    this.encodeOrdinaryInto(text, this.buffer);
    return this.buffer.length;
  }

  /**
   * Encodes text and returns, for each token, the offset in `text` (UTF-16 index) of the
   * character where the token's first byte lies: for highlighting tokens in an editor.
   */
  encodeWithOffsets(text: string): { ids: number[]; offsets: number[] } {
    const ids = this.buffer;
    ids.length = 0;
    const offsets: number[] = [];
    const bytes = this.decoder();
    const well = text.isWellFormed() ? text : text.toWellFormed();
    const re = this.splitter;
    re.lastIndex = 0;
    for (let m = re.exec(well); m !== null; m = re.exec(well)) {
      const before = ids.length;
      this.encodeRange(m[0], 0, m[0].length, ids);
      // walk the piece's characters alongside the tokens' bytes
      let charIndex = 0;
      let byteInChar = 0;
      for (let t = before; t < ids.length; t++) {
        offsets.push(m.index + charIndex);
        byteInChar += bytes[ids.data[t]].length;
        for (;;) {
          const cp = m[0].codePointAt(charIndex)!;
          const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
          if (byteInChar < width) break;
          byteInChar -= width;
          charIndex += cp > 0xffff ? 2 : 1;
          if (charIndex >= m[0].length) break;
        }
      }
    }
    return { ids: ids.toArray(), offsets };
  }

  /** Decodes ids to text; invalid UTF-8 (a token sequence cut inside a character) becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return utf8Decoder.decode(this.decodeBytes(ids));
  }

  /** Decodes ids to raw bytes. An id outside the vocabulary throws and names it. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const table = this.decoder();
    let length = 0;
    for (let i = 0; i < ids.length; i++) length += this.tokenBytesAt(table, ids, i).length;
    const out = new Uint8Array(length);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = table[ids[i]];
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  /** The bytes of one token. */
  tokenBytes(id: number): Uint8Array {
    return this.tokenBytesAt(this.decoder(), [id], 0);
  }

  /** The mergeable ranks, as binary strings to ids (for saving or inspecting a vocabulary). */
  mergeableRanks(): ReadonlyMap<string, number> {
    return this.ranks;
  }

  private tokenBytesAt(table: Uint8Array[], ids: ArrayLike<number>, i: number): Uint8Array {
    const b = table[ids[i]];
    if (b === undefined) {
      throw new TokenizerError(
        'invalid_token_id',
        `Encoding ${this.name}: id ${ids[i]} at position ${i} is not in the vocabulary (ids 0..${this.vocabSize - 1})`,
      );
    }
    return b;
  }

  private decoder(): Uint8Array[] {
    if (this.decoderTable) return this.decoderTable;
    const table: Uint8Array[] = [];
    for (const [key, id] of this.ranks) {
      const b = new Uint8Array(key.length);
      for (let i = 0; i < key.length; i++) b[i] = key.charCodeAt(i);
      table[id] = b;
    }
    for (const [token, id] of Object.entries(this.specialTokens)) table[id] = utf8.encode(token);
    this.decoderTable = table;
    return table;
  }

  private encodeOrdinaryInto(text: string, out: IdBuffer): void {
    // TextEncoder (and so tiktoken) turns lone surrogates into U+FFFD; do it before splitting.
    const well = text.isWellFormed() ? text : text.toWellFormed();
    const { sticky, splitter, scanner } = this;
    if (scanner) {
      const table = bmpTable();
      for (let start = 0; start < well.length; ) {
        const end = scanner(well, start, table);
        this.encodeRange(well, start, end, out);
        start = end;
      }
      return;
    }
    for (let start = 0; start < well.length; ) {
      sticky.lastIndex = start;
      if (!sticky.test(well)) {
        // nothing matches here: like tiktoken's find_iter, skip to the next match
        splitter.lastIndex = start;
        const next = splitter.exec(well);
        if (next === null) return;
        start = next.index;
        continue;
      }
      const end = sticky.lastIndex;
      if (end === start) {
        start += well.codePointAt(start)! > 0xffff ? 2 : 1; // an empty match encodes nothing
        continue;
      }
      this.encodeRange(well, start, end, out);
      start = end;
    }
  }

  private encodeRange(text: string, start: number, end: number, out: IdBuffer): void {
    if (end - start > MAX_CACHED_PIECE) {
      this.encodeUncached(text.slice(start, end), out);
      return;
    }
    const hash = PieceCache.hash(text, start, end);
    if (this.cache.appendTo(text, start, end, hash, out)) return;
    const from = out.length;
    this.encodeUncached(text.slice(start, end), out);
    this.cache.set(text, start, end, hash, out.data, from, out.length - from);
  }

  private encodeUncached(piece: string, out: IdBuffer): void {
    const bytes = binaryString(piece);
    const whole = this.ranks.get(bytes);
    if (whole !== undefined) out.push(whole);
    else bytePairEncode(bytes, this.ranks, out);
  }
}
