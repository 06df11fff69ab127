import type { IdBuffer } from './id-buffer.js';

/**
 * A cache from pre-tokenized pieces to their token ids, looked up by a range of the input text
 * (`text`, `start`, `end`) so that a hit costs no substring allocation and no engine string
 * hashing: we hash the range's UTF-16 units ourselves (FNV-1a) and compare them against a copy
 * kept in a typed-array arena. Most of the encoder's time on ordinary text is spent here.
 *
 * Open addressing with linear probing over a power-of-two table. When the table is 3/4 full
 * or an arena is full, everything is cleared (frequent pieces come straight back), so memory
 * stays bounded (about 2.5 MB).
 */
const CAPACITY = 1 << 16;
const MAX_FILL = (CAPACITY * 3) / 4;
const KEY_ARENA = 1 << 20;
const ID_ARENA = 1 << 18;

/** Longest piece (UTF-16 units) that is cached; longer ones are rare and not worth the space. */
export const MAX_CACHED_PIECE = 64;

export class PieceCache {
  private readonly hashes = new Int32Array(CAPACITY); // 0 = empty slot
  private readonly keyStart = new Int32Array(CAPACITY);
  private readonly keyLength = new Int32Array(CAPACITY);
  private readonly idStart = new Int32Array(CAPACITY);
  private readonly idCount = new Int32Array(CAPACITY);
  private readonly keys = new Uint16Array(KEY_ARENA);
  private readonly ids = new Int32Array(ID_ARENA);
  private fill = 0;
  private keyEnd = 0;
  private idEnd = 0;

  /** FNV-1a over `text[start, end)`. Never 0, so 0 can mark an empty slot. */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h === 0 ? 1 : h;
  }

  /**
   * Appends the cached ids of `text[start, end)` to `out` and returns true, or returns false on
   * a miss. `hash` is `PieceCache.hash(text, start, end)`.
   */
  appendTo(text: string, start: number, end: number, hash: number, out: IdBuffer): boolean {
    const mask = CAPACITY - 1;
    const length = end - start;
    const { hashes, keys } = this;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const h = hashes[slot];
      if (h === 0) return false;
      if (h !== hash || this.keyLength[slot] !== length) continue;
      const at = this.keyStart[slot];
      let i = 0;
      while (i < length && keys[at + i] === text.charCodeAt(start + i)) i++;
      if (i !== length) continue;
      const count = this.idCount[slot];
      if (count === 1) out.push(this.ids[this.idStart[slot]]);
      else out.pushRange(this.ids, this.idStart[slot], count);
      return true;
    }
  }

  /** Remembers that `text[start, end)` (hash `hash`) encodes to `ids[from, from + count)`. */
  set(
    text: string,
    start: number,
    end: number,
    hash: number,
    ids: Int32Array,
    from: number,
    count: number,
  ): void {
    const length = end - start;
    if (this.fill >= MAX_FILL || this.keyEnd + length > KEY_ARENA || this.idEnd + count > ID_ARENA)
      this.clear();
    const mask = CAPACITY - 1;
    let slot = hash & mask;
    while (this.hashes[slot] !== 0) slot = (slot + 1) & mask;
    this.hashes[slot] = hash;
    this.keyStart[slot] = this.keyEnd;
    this.keyLength[slot] = length;
    for (let i = 0; i < length; i++) this.keys[this.keyEnd + i] = text.charCodeAt(start + i);
    this.keyEnd += length;
    this.idStart[slot] = this.idEnd;
    this.idCount[slot] = count;
    this.ids.set(ids.subarray(from, from + count), this.idEnd);
    this.idEnd += count;
    this.fill++;
  }

  private clear(): void {
    this.hashes.fill(0);
    this.fill = 0;
    this.keyEnd = 0;
    this.idEnd = 0;
  }
}
