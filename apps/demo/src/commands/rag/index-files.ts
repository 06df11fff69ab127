// `llmkit rag index DIR`: Markdown and text files -> chunks (Markdown-aware or recursive splitter,
// exact offsets) -> BM25 + vectors (when an embedder is given) -> the PGlite store.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { extname, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Bm25Index,
  type Chunk,
  createBm25Index,
  createMarkdownSplitter,
  createPgliteStore,
  createRecursiveCharacterSplitter,
  loadBm25Index,
  type StoreRecord,
} from '@llmkit/rag';
import { writeFileAtomicSync } from '@llmkit/utils';
import { CliError } from '../../cli-error.js';
import { chooseBackend } from '../../backend.js';
import {
  createPhaseProgress,
  describeEmbedder,
  type EmbedderRequest,
  type EmbedderSpec,
  type Manifest,
  openEmbedder,
  readManifest,
  storePaths,
} from '../../rag/store.js';
import { findTextFiles } from '../../rag/text-files.js';

function positiveInteger(flag: string, value: string | undefined, minimum = 1): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < minimum)
    throw new CliError(`--${flag} ${value}: expected an integer >= ${minimum}`);
  return n;
}

/** The embedder asked for on the command line, checked against the one the store was built with. */
function embedderFromFlags(
  values: { embedder?: string; 'embedder-model'?: string; 'embedder-checkpoint'?: string },
  manifest: Manifest | undefined,
  store: string,
): EmbedderRequest | null {
  if (values.embedder && values['embedder-checkpoint'])
    throw new CliError('give --embedder URL or --embedder-checkpoint DIR, not both');
  let wanted: EmbedderRequest | null = null;
  if (values.embedder) {
    if (!/^https?:\/\//.test(values.embedder))
      throw new CliError(
        `--embedder ${values.embedder}: expected an http(s) URL of an OpenAI-compatible API, such as http://127.0.0.1:8080/v1`,
      );
    if (!values['embedder-model'])
      throw new CliError('--embedder URL needs --embedder-model NAME (the model the server runs)');
    wanted = { kind: 'http', baseUrl: values.embedder, model: values['embedder-model'] };
  } else if (values['embedder-checkpoint']) {
    wanted = { kind: 'checkpoint', path: resolve(values['embedder-checkpoint']) };
  }
  if (!manifest) return wanted;
  if (!wanted) return manifest.embedder; // keep using what the store was built with
  const before = manifest.embedder;
  const same =
    before !== null &&
    before.kind === wanted.kind &&
    (before.kind === 'http'
      ? wanted.kind === 'http' && before.baseUrl === wanted.baseUrl && before.model === wanted.model
      : wanted.kind === 'checkpoint' && before.path === wanted.path);
  if (!same)
    throw new CliError(
      `--store ${store} was indexed with embedder ${describeEmbedder(before)}; index with the same embedder or use another --store`,
    );
  return before;
}

/** `llmkit rag index DIR`: returns the summary it prints last. */
export async function ragIndex(args: string[]): Promise<Record<string, unknown>> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      store: { type: 'string' },
      json: { type: 'boolean', default: false },
      'chunk-size': { type: 'string', default: '1000' },
      'chunk-overlap': { type: 'string' },
      embedder: { type: 'string' },
      'embedder-model': { type: 'string' },
      'embedder-checkpoint': { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new CliError(
      `expected one folder to index, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}; usage: llmkit rag index DIR`,
    );
  const dir = resolve(positionals[0]);
  if (!existsSync(dir)) throw new CliError(`${positionals[0]}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new CliError(`${positionals[0]}: not a folder`);
  const chunkSize = positiveInteger('chunk-size', values['chunk-size']);
  const chunkOverlap =
    values['chunk-overlap'] === undefined
      ? Math.min(200, Math.floor(chunkSize / 5))
      : positiveInteger('chunk-overlap', values['chunk-overlap'], 0);
  if (chunkOverlap >= chunkSize)
    throw new CliError(
      `--chunk-overlap ${chunkOverlap}: expected less than --chunk-size ${chunkSize}`,
    );
  const files = findTextFiles(dir);
  if (files.length === 0)
    throw new CliError(
      `${positionals[0]}: no .md, .markdown or .txt files in this folder or below; nothing to index`,
    );
  const paths = storePaths(values.store);
  const manifest = readManifest(paths.manifest);
  const spec = embedderFromFlags(values, manifest, paths.root);
  if (manifest && (manifest.chunkSize !== chunkSize || manifest.chunkOverlap !== chunkOverlap))
    throw new CliError(
      `--store ${paths.root} was indexed with --chunk-size ${manifest.chunkSize} --chunk-overlap ${manifest.chunkOverlap}; use the same or another --store`,
    );
  const started = performance.now();
  const progress = createPhaseProgress(values.json!);
  // Ctrl-C stops embedding and storing between batches, so the database closes cleanly; the
  // manifest is written last, so the next run redoes the files this one did not finish
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  const { signal } = controller;
  if (!values.json && !spec)
    console.error(
      'no embedder: indexing for BM25 only (pass --embedder URL --embedder-model NAME, or --embedder-checkpoint DIR, for hybrid BM25 + vector retrieval)',
    );

  // split the files that changed since the last run
  const sources: Manifest['sources'] = { ...manifest?.sources };
  const markdown = createMarkdownSplitter({ chunkSize, chunkOverlap });
  const plain = createRecursiveCharacterSplitter({ chunkSize, chunkOverlap });
  const chunks: Chunk[] = [];
  const stale: string[] = [];
  let unchanged = 0;
  let empty = 0;
  files.forEach((file, i) => {
    const text = readFileSync(file, 'utf8');
    const sourceId = relative(dir, file).split(sep).join('/');
    const sha256 = createHash('sha256').update(text).digest('hex');
    const before = sources[sourceId];
    if (before?.sha256 === sha256) unchanged++;
    else {
      if (before) for (let c = 0; c < before.chunks; c++) stale.push(`${sourceId}#${c}`);
      const splitter = extname(file).toLowerCase() === '.txt' ? plain : markdown;
      const own = text.trim().length === 0 ? [] : splitter.split(text, { id: sourceId });
      if (own.length === 0) empty++;
      chunks.push(...own);
      sources[sourceId] = { sha256, characters: text.length, chunks: own.length };
    }
    progress.update('split', i + 1, files.length);
  });

  // vectors for the new chunks
  const embedder = spec ? await openEmbedder(spec, () => chooseBackend(values.backend)) : undefined;
  let vectors: Float32Array[] = [];
  if (embedder && chunks.length > 0) {
    vectors = await embedder.embed(
      chunks.map((c) => c.text),
      { signal, onProgress: ({ done, total }) => progress.update('embed', done, total) },
    );
  }
  const dimension = spec?.dimension ?? vectors[0]?.length ?? embedder?.dimension ?? 1;
  const savedSpec: EmbedderSpec | null = spec ? ({ ...spec, dimension } as EmbedderSpec) : null;

  // the store and the BM25 index
  mkdirSync(paths.root, { recursive: true });
  const store = await createPgliteStore({
    dataDir: paths.database,
    dimension,
    indexing: 'deferred',
  });
  try {
    const bm25: Bm25Index = existsSync(paths.bm25)
      ? await loadBm25Index(paths.bm25)
      : createBm25Index({ fieldBoosts: { headings: 2 } });
    if (stale.length > 0) {
      await store.remove(stale);
      for (const id of stale) await bm25.remove(id);
    }
    const placeholder = new Float32Array([1]);
    const records: StoreRecord[] = chunks.map((chunk, i) => ({
      id: `${chunk.sourceId}#${chunk.index}`,
      text: chunk.text,
      vector: embedder ? vectors[i] : placeholder,
      metadata: { ...chunk.metadata, sourceId: chunk.sourceId, start: chunk.start, end: chunk.end },
    }));
    await store.add(records, {
      signal,
      onProgress: ({ done, total }) => progress.update('store', done, total),
    });
    await bm25.add(
      chunks.map((chunk) => ({
        id: `${chunk.sourceId}#${chunk.index}`,
        text: chunk.text,
        fields: { headings: ((chunk.metadata.headings as string[] | undefined) ?? []).join(' ') },
      })),
      { signal, onProgress: ({ done, total }) => progress.update('bm25', done, total) },
    );
    if (embedder && records.length > 0) await store.createIndex();
    await bm25.save(paths.bm25);
    const next: Manifest = {
      format: 'llmkit-rag-store',
      version: 1,
      embedder: savedSpec,
      chunkSize,
      chunkOverlap,
      sources,
    };
    writeFileAtomicSync(paths.manifest, `${JSON.stringify(next, null, 2)}\n`);
    progress.finish();
    const summary = {
      files: files.length,
      indexed_files: files.length - unchanged,
      unchanged_files: unchanged,
      empty_files: empty,
      chunks: chunks.length,
      store_chunks: await store.count(),
      retrieval: embedder ? 'hybrid' : 'bm25',
      embedder: describeEmbedder(savedSpec),
      store: paths.root,
      seconds: +((performance.now() - started) / 1000).toFixed(2),
    };
    if (values.json) console.log(JSON.stringify(summary));
    else
      console.error(
        `indexed ${summary.indexed_files} of ${summary.files} files (${summary.unchanged_files} unchanged) into ${summary.chunks} chunks; the store at ${paths.root} holds ${summary.store_chunks} chunks; retrieval: ${summary.retrieval}`,
      );
    return summary;
  } finally {
    process.off('SIGINT', stop);
    progress.finish();
    await store.close();
  }
}
