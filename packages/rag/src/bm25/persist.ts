// Saving and loading a BM25 index: the analyzed documents (term counts per field) as JSON inside
// the checksummed index file (see ../file.ts). Loading does not re-run the analyzer on documents;
// queries use the analyzer rebuilt from the saved settings, or the one passed to load.
import { RagError } from '../errors.js';
import { readIndexFile, writeIndexFile } from '../file.js';
import type { Analyzer } from './analyzer.js';
import {
  type AnalyzedDocument,
  type Bm25Index,
  Bm25IndexImpl,
  createBm25Index,
  type ResolvedBm25Options,
} from './bm25-index.js';

const KIND = 'bm25';
const VERSION = 1;

/** Writes a BM25 index made by `createBm25Index` to `path` (see `Bm25Index.save`). */
export async function saveBm25Index(index: Bm25Index, path: string): Promise<void> {
  if (!(index instanceof Bm25IndexImpl))
    throw new RagError(
      'invalid_argument',
      'saveBm25Index: expected an index made by createBm25Index',
    );
  const payload = new TextEncoder().encode(JSON.stringify(index.storedDocuments()));
  await writeIndexFile(path, KIND, VERSION, { options: index.options }, [payload]);
}

/**
 * Loads a BM25 index saved with `index.save(path)`. An index built with a custom analyzer
 * function needs that function again: `loadBm25Index(path, { analyzer })`.
 * A damaged file throws `RagError('corrupt_file')` naming it.
 *
 * @example
 * ```ts
 * await index.save('/tmp/docs.bm25');
 * const again = await loadBm25Index('/tmp/docs.bm25');
 * ```
 */
export async function loadBm25Index(
  path: string,
  options: { analyzer?: Analyzer } = {},
): Promise<Bm25Index> {
  const { header, payload } = await readIndexFile<{ options: ResolvedBm25Options }>(
    path,
    KIND,
    VERSION,
  );
  const saved = header.options;
  if (saved.analyzer === null && !options.analyzer) {
    throw new RagError(
      'invalid_config',
      `loadBm25Index: ${path} was built with a custom analyzer function; pass it as options.analyzer`,
    );
  }
  const index = createBm25Index({
    k1: saved.k1,
    b: saved.b,
    fieldBoosts: saved.fieldBoosts,
    fieldB: saved.fieldB,
    analyzer: options.analyzer ?? saved.analyzer ?? undefined,
  }) as Bm25IndexImpl;
  const documents: AnalyzedDocument[] = JSON.parse(new TextDecoder().decode(payload));
  for (const document of documents) index.insert(document);
  return index;
}
