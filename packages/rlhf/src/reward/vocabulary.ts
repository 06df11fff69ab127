// A compact vocabulary over another tokenizer's ids, for small classifiers. A reward classifier
// trained on a few thousand sentences sees a few thousand of GPT-2's 50,257 tokens; an embedding
// table over all of them would be mostly untrained rows (and 95% of the parameters). So the ids
// seen at least `minCount` times in the training texts get ids 2, 3, ... (by first appearance),
// every other id maps to 1 ([UNK]) and 0 is [PAD]. Texts are lower-cased first by default, so
// "GOOD", "Good" and "good" (Shakespeare's capitals, a review's shouting) read the same.
//
// Worked example with a base tokenizer that maps words to ids:
//   fromTexts(base, ['good day', 'good night'])  base ids [7, 9], [7, 4] -> compact 7->2, 9->3, 4->4
//   encode('good morrow')                        base [7, 12] -> [2, 1] (12 never seen: [UNK])
import { RlhfError } from '../errors.js';
import type { TextTokenizer } from '../sequences.js';

/** The compact id of padding (rows are right-padded with it and masked). */
export const PAD_ID = 0;
/** The compact id of every base token not in the vocabulary. */
export const UNKNOWN_ID = 1;

/** Options of {@link CompactVocabulary.fromTexts}. */
export interface CompactVocabularyOptions {
  /** Keep base tokens seen at least this often (default 1: every token seen). */
  minCount?: number;
  /** Lower-case texts before tokenizing (default true). */
  lowercase?: boolean;
}

/** What {@link CompactVocabulary.toJSON} writes: enough to rebuild it over the same base. */
export interface CompactVocabularyJson {
  /** Format marker. */
  type: 'compact-vocabulary';
  /** Base token id of compact id `i + 2`. */
  baseIds: number[];
  /** Whether texts are lower-cased before tokenizing. */
  lowercase: boolean;
}

/**
 * A {@link TextTokenizer} that maps a base tokenizer's ids onto a small vocabulary (0 = [PAD],
 * 1 = [UNK], 2... = tokens seen in training).
 *
 * @example
 * ```ts
 * const gpt2 = getEncoding('gpt2'); // @llmkit/tokenizer
 * const vocabulary = CompactVocabulary.fromTexts(gpt2, sentences.map((s) => s.text));
 * vocabulary.vocabSize; // 4000 or so, not 50,257
 * vocabulary.encode('Good morrow'); // e.g. [57, 1]
 * ```
 */
export class CompactVocabulary implements TextTokenizer {
  /** Lower-cases texts before tokenizing. */
  readonly lowercase: boolean;
  private readonly base: TextTokenizer;
  private readonly baseIds: number[];
  private readonly compactOf = new Map<number, number>();

  /** Prefer {@link CompactVocabulary.fromTexts}; `baseIds[i]` becomes compact id `i + 2`. */
  constructor(base: TextTokenizer, baseIds: readonly number[], lowercase = true) {
    this.base = base;
    this.baseIds = [...baseIds];
    this.lowercase = lowercase;
    for (const [i, id] of this.baseIds.entries()) {
      if (!Number.isInteger(id) || id < 0)
        throw new RlhfError(
          'invalid_argument',
          `CompactVocabulary: base id ${i} is ${id}; expected a non-negative integer`,
        );
      if (this.compactOf.has(id))
        throw new RlhfError(
          'invalid_argument',
          `CompactVocabulary: base id ${id} appears twice; expected distinct ids`,
        );
      this.compactOf.set(id, i + 2);
    }
  }

  /** Builds the vocabulary of the base tokens in `texts` (seen at least `minCount` times). */
  static fromTexts(
    base: TextTokenizer,
    texts: readonly string[],
    options: CompactVocabularyOptions = {},
  ): CompactVocabulary {
    const { minCount = 1, lowercase = true } = options;
    if (!Number.isInteger(minCount) || minCount < 1)
      throw new RlhfError(
        'invalid_argument',
        `CompactVocabulary.fromTexts: minCount must be a positive integer, got ${minCount}`,
      );
    const counts = new Map<number, number>(); // insertion order = first appearance
    for (const text of texts)
      for (const id of base.encode(lowercase ? text.toLowerCase() : text))
        counts.set(id, (counts.get(id) ?? 0) + 1);
    const kept = [...counts].filter(([, n]) => n >= minCount).map(([id]) => id);
    return new CompactVocabulary(base, kept, lowercase);
  }

  /** Rebuilds a vocabulary written by {@link CompactVocabulary.toJSON} over the same base. */
  static fromJSON(base: TextTokenizer, json: CompactVocabularyJson): CompactVocabulary {
    if (json?.type !== 'compact-vocabulary' || !Array.isArray(json.baseIds))
      throw new RlhfError(
        'invalid_data',
        `CompactVocabulary.fromJSON: expected { type: 'compact-vocabulary', baseIds: [...] }, got type ${JSON.stringify(json?.type)}`,
      );
    return new CompactVocabulary(base, json.baseIds, json.lowercase !== false);
  }

  /** Ids in use: [PAD], [UNK] and the kept tokens. */
  get vocabSize(): number {
    return this.baseIds.length + 2;
  }

  /** Compact ids of `text` ([UNK] for base tokens outside the vocabulary). */
  encode(text: string): number[] {
    return this.base
      .encode(this.lowercase ? text.toLowerCase() : text)
      .map((id) => this.compactOf.get(id) ?? UNKNOWN_ID);
  }

  /** Text of compact ids; [PAD] is dropped and [UNK] reads `"\uFFFD"`. */
  decode(ids: ArrayLike<number>): string {
    let out = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) out += this.base.decode(run);
      run = [];
    };
    for (const id of Array.from(ids)) {
      if (id === PAD_ID) continue;
      if (id === UNKNOWN_ID) {
        flush();
        out += '\uFFFD';
      } else if (Number.isInteger(id) && id >= 2 && id < this.vocabSize)
        run.push(this.baseIds[id - 2]);
      else
        throw new RlhfError(
          'invalid_argument',
          `CompactVocabulary.decode: id ${id} is outside [0, ${this.vocabSize})`,
        );
    }
    flush();
    return out;
  }

  /** The vocabulary as JSON (the base tokenizer is not included: pass it to fromJSON). */
  toJSON(): CompactVocabularyJson {
    return { type: 'compact-vocabulary', baseIds: [...this.baseIds], lowercase: this.lowercase };
  }
}
