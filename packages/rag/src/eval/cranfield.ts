// Loader for the Cranfield 1400 collection in its SMART files: cran.all.1400 (documents),
// cran.qry (queries), cranqrel (judgements). Two traps, both handled here:
//   - The ".I" numbers of cran.qry skip (001, 002, 004, 008, ...) while cranqrel numbers queries
//     1..225 in file order: queries are identified by position ("1" .. "225"), not by ".I".
//   - Each query has one row of grade -1, which is no judgement: those rows are dropped.
// Grades run 1-4 with 1 best (Cleverdon: 1 "complete answer" ... 4 "minimum interest"); gains for
// graded metrics are 5 - grade, so 1 -> 4, 2 -> 3, 3 -> 2, 4 -> 1, and every judged row is relevant.
// Node only.
import { RagError } from '../errors.js';
import type { Qrels } from './metrics.js';

/** A Cranfield document. */
export interface CranfieldDocument {
  /** Its ".I" number as a string, "1" .. "1400" (cranqrel uses the same numbers). */
  id: string;
  /** The ".T" title. */
  title: string;
  /** The ".A" authors. */
  authors: string;
  /** The ".B" bibliographic reference. */
  bibliography: string;
  /** The ".W" abstract (which usually repeats the title first). */
  text: string;
}

/** A Cranfield query. */
export interface CranfieldQuery {
  /** Position in cran.qry, "1" .. "225": the number cranqrel uses. */
  id: string;
  /** The ".I" number printed in cran.qry (not used by cranqrel). */
  printedNumber: string;
  /** The query text. */
  text: string;
}

/** The whole collection. */
export interface Cranfield {
  /** 1,400 documents. */
  documents: CranfieldDocument[];
  /** 225 queries. */
  queries: CranfieldQuery[];
  /** Gains (5 - grade) by query id and document id, grade -1 rows dropped. */
  qrels: Qrels;
}

/** Splits a SMART file into records: `.I n` starts one, `.X` lines start fields. */
export function parseSmart(text: string): { number: string; fields: Record<string, string> }[] {
  const records: { number: string; fields: Record<string, string> }[] = [];
  let current: { number: string; fields: Record<string, string> } | null = null;
  let field = '';
  for (const line of text.split(/\r?\n/)) {
    const start = /^\.I\s+(\S+)/.exec(line);
    if (start) {
      current = { number: start[1], fields: {} };
      records.push(current);
      field = '';
      continue;
    }
    const marker = /^\.([A-Z])\s*$/.exec(line);
    if (marker && current) {
      field = marker[1];
      current.fields[field] = '';
      continue;
    }
    if (current && field)
      current.fields[field] += (current.fields[field] ? '\n' : '') + line.trimEnd();
  }
  return records;
}

/** Parses cranqrel text: rows `query doc grade`, grade -1 dropped, gain = 5 - grade. */
export function parseCranfieldQrels(text: string): Qrels {
  const qrels: Qrels = {};
  for (const line of text.split(/\r?\n/)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3) continue;
    const [query, doc, gradeText] = parts;
    const grade = Number(gradeText);
    if (grade === -1) continue;
    if (!(grade >= 1 && grade <= 4))
      throw new RagError(
        'invalid_data',
        `cranqrel: grade ${gradeText} in line ${JSON.stringify(line)}, expected -1 or 1-4`,
      );
    qrels[query] ??= {};
    qrels[query][doc] = 5 - grade;
  }
  return qrels;
}

/**
 * Loads Cranfield 1400 from a directory holding cran.all.1400, cran.qry and cranqrel.
 *
 * @example
 * ```ts
 * // a folder of the collection's files, from ir.dcs.gla.ac.uk/resources/test_collections/cran
 * const { documents, queries, qrels } = await loadCranfield('data/cranfield');
 * // documents.length 1400, queries.length 225, qrels['1']['184'] === 3 (grade 2)
 * ```
 */
export async function loadCranfield(dir: string): Promise<Cranfield> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const [all, qry, qrel] = await Promise.all(
    ['cran.all.1400', 'cran.qry', 'cranqrel'].map((name) => readFile(join(dir, name), 'utf8')),
  );
  const clean = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
  const documents = parseSmart(all).map((r) => ({
    id: String(Number(r.number)),
    title: clean(r.fields.T),
    authors: clean(r.fields.A),
    bibliography: clean(r.fields.B),
    text: clean(r.fields.W),
  }));
  const queries = parseSmart(qry).map((r, position) => ({
    id: String(position + 1),
    printedNumber: r.number,
    text: clean(r.fields.W),
  }));
  return { documents, queries, qrels: parseCranfieldQrels(qrel) };
}
