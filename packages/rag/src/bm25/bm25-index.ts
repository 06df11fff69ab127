// Okapi BM25 over one or more weighted fields, in the BM25F form of Robertson, Zaragoza and Taylor
// ("Simple BM25 extension to multiple weighted fields", CIKM 2004): field term frequencies are
// length-normalised per field, weighted by the field's boost and summed before saturation:
//
//   tf~(t, d)   = sum_f boost_f * tf_f(t, d) / ((1 - b_f) + b_f * length_f(d) / averageLength_f)
//   score(q, d) = sum_{t in q} qtf(t) * idf(t) * tf~(t, d) / (k1 + tf~(t, d))
//   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))          (Lucene's, never negative)
//
// With one field and boost 1 this is plain Okapi BM25. qtf(t) counts repeats of t in the query.
// The document's `text` is the field "text"; `fields` adds others (title, headings...).
import { RagError } from '../errors.js';
import { type Filter, matchesFilter, validateFilter } from '../filter.js';
import { Pacer, type LongOperationOptions } from '../progress.js';
import type { Metadata } from '../splitters/chunk.js';
import { type Analyzer, type AnalyzerOptions, createAnalyzer } from './analyzer.js';

/** A document for {@link createBm25Index}. */
export interface Bm25Document {
  /** Unique id; adding an id again replaces the document. */
  id: string;
  /** The main text, indexed as the field `text`. */
  text: string;
  /** More fields to index, e.g. `{ title: '...' }`; weigh them with `fieldBoosts`. */
  fields?: Record<string, string>;
  /** Metadata that search filters test. */
  metadata?: Metadata;
}

/** A search hit: the document id and its score (higher is better). */
export interface SearchResult {
  /** Id of the document or vector. */
  id: string;
  /** Score, higher is better. */
  score: number;
}

/** Options of a search. */
export interface SearchOptions {
  /** How many results, at most. Default 10. */
  k?: number;
  /** Only documents whose metadata passes this filter. */
  filter?: Filter;
}

/** Options of {@link createBm25Index}. */
export interface Bm25Options {
  /** Term-frequency saturation: higher lets repeated terms count longer. Default 1.2 (Lucene's). */
  k1?: number;
  /** Length normalisation from 0 (none) to 1 (full). Default 0.75 (Robertson's). */
  b?: number;
  /** Weight of each field; `text` defaults to 1 and others to 1 unless named here. */
  fieldBoosts?: Record<string, number>;
  /** Per-field `b`, for fields whose length means something else (short titles). Default `b`. */
  fieldB?: Record<string, number>;
  /** The analyzer, or settings for the built-in one (default: English stop words, Porter stems). */
  analyzer?: Analyzer | AnalyzerOptions;
}

/** A BM25 index: add, remove, search, save. */
export interface Bm25Index {
  /** Indexes documents (replacing ids already present); long batches report progress. */
  add(documents: Bm25Document[], options?: LongOperationOptions): Promise<void>;
  /** Removes a document; returns whether it was there. */
  remove(id: string): Promise<boolean>;
  /** The best `k` documents for `query`, best first; no match (or an empty index) gives []. */
  search(query: string, options?: SearchOptions): Promise<SearchResult[]>;
  /** Writes the index to `path` atomically, with a checksum (Node only). */
  save(path: string): Promise<void>;
  /** Number of documents. */
  readonly size: number;
  /** The options in force, defaults filled. */
  readonly options: Readonly<ResolvedBm25Options>;
  /** The analyzer in use. */
  readonly analyzer: Analyzer;
}

/** Options with their defaults filled in. */
export interface ResolvedBm25Options {
  /** See {@link Bm25Options.k1}. */
  k1: number;
  /** See {@link Bm25Options.b}. */
  b: number;
  /** See {@link Bm25Options.fieldBoosts}. */
  fieldBoosts: Record<string, number>;
  /** See {@link Bm25Options.fieldB}. */
  fieldB: Record<string, number>;
  /** The built-in analyzer's settings, or null for a custom function. */
  analyzer: AnalyzerOptions | null;
}

/** One document as stored: per field, term counts and length. */
export interface AnalyzedDocument {
  /** Document id. */
  id: string;
  /** Document metadata. */
  metadata: Metadata;
  /** field -> term -> count. */
  terms: Record<string, Record<string, number>>;
  /** field -> number of terms. */
  lengths: Record<string, number>;
}

function validateOptions(options: Bm25Options): ResolvedBm25Options {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  if (!(k1 >= 0) || !Number.isFinite(k1))
    throw new RagError(
      'invalid_config',
      `createBm25Index: k1 is ${k1}, expected a finite number >= 0`,
    );
  const checkB = (value: number, name: string) => {
    if (!(value >= 0 && value <= 1))
      throw new RagError(
        'invalid_config',
        `createBm25Index: ${name} is ${value}, expected a number in [0, 1]`,
      );
  };
  checkB(b, 'b');
  for (const [field, value] of Object.entries(options.fieldB ?? {}))
    checkB(value, `fieldB.${field}`);
  for (const [field, boost] of Object.entries(options.fieldBoosts ?? {})) {
    if (!(boost >= 0) || !Number.isFinite(boost))
      throw new RagError(
        'invalid_config',
        `createBm25Index: fieldBoosts.${field} is ${boost}, expected a finite number >= 0`,
      );
  }
  const analyzer = typeof options.analyzer === 'function' ? null : { ...options.analyzer };
  return {
    k1,
    b,
    fieldBoosts: { ...options.fieldBoosts },
    fieldB: { ...options.fieldB },
    analyzer,
  };
}

/**
 * Creates an empty BM25 index.
 *
 * @example
 * ```ts
 * const index = createBm25Index({ fieldBoosts: { title: 2 } });
 * await index.add([
 *   { id: 'a', text: 'Wings make lift.', fields: { title: 'Lift' } },
 *   { id: 'b', text: 'Drag slows the plane.', fields: { title: 'Drag' } },
 * ]);
 * await index.search('lifting wing'); // [ { id: 'a', score: 0.8101... } ]
 * ```
 */
export function createBm25Index(options: Bm25Options = {}): Bm25Index {
  const resolved = validateOptions(options);
  const analyzer =
    typeof options.analyzer === 'function' ? options.analyzer : createAnalyzer(options.analyzer);
  return new Bm25IndexImpl(resolved, analyzer);
}

/** The implementation; documents live in slots, a removed slot stays empty. */
export class Bm25IndexImpl implements Bm25Index {
  private readonly slotOf = new Map<string, number>();
  private readonly documents: (AnalyzedDocument | null)[] = [];
  /** term -> slot -> counts per field (index into `fields`). */
  private readonly postings = new Map<string, Map<number, number[]>>();
  private readonly fields: string[] = ['text'];
  private readonly lengthSums: number[] = [0];
  private scores = new Float64Array(0);

  constructor(
    readonly options: ResolvedBm25Options,
    readonly analyzer: Analyzer,
  ) {}

  get size(): number {
    return this.slotOf.size;
  }

  async add(documents: Bm25Document[], operation: LongOperationOptions = {}): Promise<void> {
    const pacer = new Pacer('bm25 add', documents.length, operation);
    for (let i = 0; i < documents.length; i++) {
      const document = documents[i];
      if (typeof document?.id !== 'string' || typeof document.text !== 'string') {
        throw new RagError(
          'invalid_data',
          `bm25 add: document ${i} needs a string id and text, got ${JSON.stringify(document)?.slice(0, 100)}`,
        );
      }
      this.insert(this.analyze(document));
      await pacer.tick(i + 1);
    }
    pacer.finish();
  }

  /** Analyzes a document's fields into term counts. */
  analyze(document: Bm25Document): AnalyzedDocument {
    const terms: Record<string, Record<string, number>> = {};
    const lengths: Record<string, number> = {};
    const all: Record<string, string> = { text: document.text, ...document.fields };
    for (const [field, value] of Object.entries(all)) {
      const counts: Record<string, number> = Object.create(null);
      const words = this.analyzer(value ?? '');
      for (const term of words) counts[term] = (counts[term] ?? 0) + 1;
      terms[field] = counts;
      lengths[field] = words.length;
    }
    return { id: document.id, metadata: document.metadata ?? {}, terms, lengths };
  }

  /** Stores an analyzed document (replacing one with the same id). */
  insert(document: AnalyzedDocument): void {
    this.removeSync(document.id);
    const slot = this.documents.length;
    this.documents.push(document);
    this.slotOf.set(document.id, slot);
    for (const [field, counts] of Object.entries(document.terms)) {
      let f = this.fields.indexOf(field);
      if (f === -1) {
        f = this.fields.push(field) - 1;
        this.lengthSums.push(0);
      }
      this.lengthSums[f] += document.lengths[field];
      for (const [term, count] of Object.entries(counts)) {
        let posting = this.postings.get(term);
        if (!posting) {
          posting = new Map();
          this.postings.set(term, posting);
        }
        let perField = posting.get(slot);
        if (!perField) {
          perField = [];
          posting.set(slot, perField);
        }
        perField[f] = count;
      }
    }
  }

  async remove(id: string): Promise<boolean> {
    return this.removeSync(id);
  }

  private removeSync(id: string): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    const document = this.documents[slot]!;
    for (const [field, counts] of Object.entries(document.terms)) {
      this.lengthSums[this.fields.indexOf(field)] -= document.lengths[field];
      for (const term of Object.keys(counts)) {
        const posting = this.postings.get(term);
        posting?.delete(slot);
        if (posting?.size === 0) this.postings.delete(term);
      }
    }
    this.documents[slot] = null;
    this.slotOf.delete(id);
    return true;
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 0)
      throw new RagError('invalid_config', `bm25 search: k is ${k}, expected an integer >= 0`);
    validateFilter(options.filter);
    const count = this.slotOf.size;
    if (count === 0 || k === 0) return [];
    const { k1 } = this.options;
    // per field: boost, and the two parts of the length normaliser
    const boosts = this.fields.map((field) => this.options.fieldBoosts[field] ?? 1);
    const bs = this.fields.map((field) => this.options.fieldB[field] ?? this.options.b);
    const averages = this.lengthSums.map((sum) => sum / count);
    const queryCounts = new Map<string, number>();
    for (const term of this.analyzer(query))
      queryCounts.set(term, (queryCounts.get(term) ?? 0) + 1);

    if (this.scores.length < this.documents.length)
      this.scores = new Float64Array(this.documents.length * 2);
    const scores = this.scores;
    const touched: number[] = [];
    for (const [term, queryCount] of queryCounts) {
      const posting = this.postings.get(term);
      if (!posting) continue;
      const df = posting.size;
      const idf = Math.log(1 + (count - df + 0.5) / (df + 0.5));
      for (const [slot, perField] of posting) {
        const lengths = this.documents[slot]!.lengths;
        let tf = 0;
        for (let f = 0; f < perField.length; f++) {
          const c = perField[f];
          if (!c) continue;
          const normaliser =
            averages[f] > 0 ? 1 - bs[f] + (bs[f] * lengths[this.fields[f]]) / averages[f] : 1;
          tf += (boosts[f] * c) / normaliser;
        }
        if (scores[slot] === 0) touched.push(slot);
        scores[slot] += (queryCount * idf * tf) / (k1 + tf);
      }
    }
    const results: SearchResult[] = [];
    for (const slot of touched) {
      const score = scores[slot];
      scores[slot] = 0;
      const document = this.documents[slot]!;
      if (score > 0 && matchesFilter(options.filter, document.id, document.metadata)) {
        results.push({ id: document.id, score });
      }
    }
    results.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    return results.slice(0, k);
  }

  /** The stored documents, in insertion order (for saving). */
  storedDocuments(): AnalyzedDocument[] {
    return this.documents.filter((d): d is AnalyzedDocument => d !== null);
  }

  async save(path: string): Promise<void> {
    const { saveBm25Index } = await import('./persist.js');
    await saveBm25Index(this, path);
  }
}
