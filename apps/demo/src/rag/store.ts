// The on-disk layout of an `llmkit rag` store and the pieces `rag index` and `rag ask` share:
//
//   STORE/pglite/        PGlite database (Postgres + pgvector): chunk text, metadata, vectors
//   STORE/bm25.idx       the BM25 index over the same chunk ids (checksummed)
//   STORE/manifest.json  embedder used, chunk sizes, and per source file its hash and chunk count
//
// Without an embedder the store is BM25-only: the PGlite table still holds every chunk with its
// offsets, and its vector column holds the placeholder [1] (dimension 1), never searched.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHttpEmbedder, type Embedder } from '@llmkit/rag';
import { loadEncoderEmbedder } from '@llmkit/rag/encoder';
import { CliError } from '../cli-error.js';

/** How vectors are made: an OpenAI-compatible server or a saved encoder embedder. */
export type EmbedderRequest =
  | { kind: 'http'; baseUrl: string; model: string; dimension?: number }
  | { kind: 'checkpoint'; path: string; dimension?: number };

/** An embedder as a store records it, with its vector length. */
export type EmbedderSpec = EmbedderRequest & { dimension: number };

/** `manifest.json` of a store. */
export interface Manifest {
  format: 'llmkit-rag-store';
  version: 1;
  embedder: EmbedderSpec | null;
  chunkSize: number;
  chunkOverlap: number;
  sources: Record<string, { sha256: string; characters: number; chunks: number }>;
}

/** Paths of a store folder. */
export function storePaths(store: string | undefined) {
  const root = resolve(store ?? join('.llmkit', 'rag'));
  return {
    root,
    database: join(root, 'pglite'),
    bm25: join(root, 'bm25.idx'),
    manifest: join(root, 'manifest.json'),
  };
}

/** Reads a store's manifest, or undefined when the folder holds no store yet. */
export function readManifest(path: string): Manifest | undefined {
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (manifest.format !== 'llmkit-rag-store')
    throw new CliError(`${path}: not an llmkit rag store manifest`);
  return manifest;
}

/** Describes an embedder spec in a few words. */
export function describeEmbedder(spec: EmbedderSpec | null): string {
  if (!spec) return 'none (BM25 only)';
  return spec.kind === 'http'
    ? `${spec.model} at ${spec.baseUrl} (dimension ${spec.dimension})`
    : `encoder checkpoint ${spec.path} (dimension ${spec.dimension})`;
}

/** Opens the embedder a spec names (dimension still unknown for a new HTTP one: 0). */
export async function openEmbedder(
  spec: EmbedderRequest,
  backend: () => Promise<string>,
  where = spec.kind === 'checkpoint' ? `--embedder-checkpoint ${spec.path}` : '--embedder',
): Promise<Embedder> {
  if (spec.kind === 'http') {
    return createHttpEmbedder({
      baseUrl: spec.baseUrl,
      model: spec.model,
      ...(spec.dimension ? { dimension: spec.dimension } : {}),
      apiKey: process.env.LLMKIT_EMBEDDER_API_KEY,
    });
  }
  if (!existsSync(join(spec.path, 'embedder.json')))
    throw new CliError(
      `${where}: no embedder.json here; expected a folder written by saveEncoderEmbedder or llmkit rag train-embedder`,
    );
  await backend();
  return loadEncoderEmbedder(spec.path);
}

/**
 * Progress of a long phase: a bar on a terminal (stderr), else JSON lines (stdout with --json,
 * stderr when piped), as `llmkit train`.
 */
export function createPhaseProgress(json: boolean) {
  const stream = process.stderr;
  const asJson = json || !stream.isTTY;
  const out = json ? process.stdout : stream;
  let open = false;
  let lastWrite = 0;
  const finished = new Set<string>();
  return {
    update(phase: string, done: number, total: number) {
      if (finished.has(phase)) return; // a phase's last report can come twice
      if (done >= total) finished.add(phase);
      if (asJson) {
        const now = Date.now();
        if (done < total && now - lastWrite < 200) return;
        lastWrite = now;
        out.write(`${JSON.stringify({ event: 'progress', phase, done, total })}\n`);
        return;
      }
      const width = 24;
      const filled = total > 0 ? Math.round((width * done) / total) : width;
      const line = `${phase.padEnd(6)} ${done}/${total} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
      stream.write(`\r${line}\u001b[K`);
      open = true;
      if (done >= total) {
        stream.write('\n');
        open = false;
      }
    },
    finish() {
      if (open) stream.write('\n');
      open = false;
    },
  };
}
