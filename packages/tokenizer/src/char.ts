import { TokenizerError } from './errors.js';

/** The JSON form a {@link CharTokenizer} saves to and loads from. */
export interface CharTokenizerJson {
  /** Always `"char"`, so a loader can tell tokenizer files apart. */
  type: 'char';
  /** The vocabulary: the character at index `i` has id `i`. */
  chars: string[];
}

/**
 * A character-level tokenizer, as nanoGPT's `shakespeare_char`: every distinct character
 * (code point) of a corpus gets an id, in sorted order.
 *
 * @example
 * ```ts
 * const tok = CharTokenizer.fromText('hello');
 * tok.encode('hell'); // [1, 0, 2, 2]
 * tok.decode([3, 1]); // 'oe'
 * ```
 */
export class CharTokenizer {
  /** The characters of the vocabulary; index = id. */
  readonly chars: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(chars: readonly string[]) {
    const ids = new Map<string, number>();
    for (const [i, c] of chars.entries()) {
      if ([...c].length !== 1) {
        throw new TokenizerError(
          'invalid_vocabulary',
          `CharTokenizer: vocabulary entry ${i} is ${JSON.stringify(c)}; expected exactly one character`,
        );
      }
      if (ids.has(c)) {
        throw new TokenizerError(
          'invalid_vocabulary',
          `CharTokenizer: character ${JSON.stringify(c)} appears twice`,
        );
      }
      ids.set(c, i);
    }
    this.chars = [...chars];
    this.ids = ids;
  }

  /** Builds the vocabulary from every distinct character of `text`, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    const set = new Set<string>(text);
    return new CharTokenizer([...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Loads a tokenizer from the object written by {@link CharTokenizer.toJSON}. */
  static fromJSON(json: CharTokenizerJson): CharTokenizer {
    if (json?.type !== 'char' || !Array.isArray(json.chars)) {
      throw new TokenizerError(
        'corrupt_file',
        'CharTokenizer.fromJSON: expected { type: "char", chars: string[] }',
      );
    }
    return new CharTokenizer(json.chars);
  }

  /** Number of ids. */
  get vocabSize(): number {
    return this.chars.length;
  }

  /** Maps each character of `text` to its id; a character outside the vocabulary throws and names it. */
  encode(text: string): number[] {
    const out: number[] = [];
    let offset = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) {
        throw new TokenizerError(
          'unknown_character',
          `CharTokenizer.encode: character ${JSON.stringify(c)} at offset ${offset} is not in the vocabulary of ${this.chars.length}`,
        );
      }
      out.push(id);
      offset += c.length;
    }
    return out;
  }

  /** Maps ids back to text; an id outside `[0, vocabSize)` throws and names it. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined) {
        throw new TokenizerError(
          'invalid_token_id',
          `CharTokenizer.decode: id ${ids[i]} at position ${i} is outside the vocabulary [0, ${this.chars.length})`,
        );
      }
      s += c;
    }
    return s;
  }

  /** The JSON form, for saving next to a checkpoint. */
  toJSON(): CharTokenizerJson {
    return { type: 'char', chars: [...this.chars] };
  }
}
