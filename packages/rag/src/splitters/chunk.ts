import { RagError } from '../errors.js';

/** Arbitrary JSON-like metadata carried by documents, chunks and store records. */
export type Metadata = Record<string, unknown>;

/**
 * A piece of a source text. `text === source.slice(start, end)` always holds, so a citation can
 * point back into the original document.
 */
export interface Chunk {
  /** The chunk's text: exactly `source.slice(start, end)`. */
  text: string;
  /** Id of the document the chunk came from. */
  sourceId: string;
  /** Offset of the first character in the source (UTF-16 index, like `String.prototype.slice`). */
  start: number;
  /** Offset one past the last character in the source. */
  end: number;
  /** Position of the chunk among its source's chunks, from 0. */
  index: number;
  /** The source's metadata, plus what the splitter adds (the Markdown splitter adds `headings`). */
  metadata: Metadata;
}

/** A text to split: its id, text and metadata. */
export interface SourceDocument {
  /** Id that every chunk of this document carries as `sourceId`. */
  id: string;
  /** The full text. */
  text: string;
  /** Copied into every chunk's metadata. */
  metadata?: Metadata;
}

/** What every splitter offers. */
export interface TextSplitter {
  /** Splits one text; chunks come in source order. */
  split(text: string, source?: { id?: string; metadata?: Metadata }): Chunk[];
  /** Splits many documents; chunks come in document order, then source order. */
  splitDocuments(documents: SourceDocument[]): Chunk[];
}

/** Sizes shared by the splitters. */
export interface ChunkSizeOptions {
  /** Largest chunk, in characters (or tokens where the splitter counts tokens). Default 1000, as in LangChain.js. */
  chunkSize?: number;
  /** How much consecutive chunks may share, same unit; must be smaller than `chunkSize`. Default 200 as in LangChain.js, or a fifth of `chunkSize` when that is smaller. */
  chunkOverlap?: number;
}

/** Checks chunk sizes up front and fills the defaults. */
export function resolveChunkSizes(
  options: ChunkSizeOptions,
  where: string,
): { chunkSize: number; chunkOverlap: number } {
  const chunkSize = options.chunkSize ?? 1000;
  const chunkOverlap = options.chunkOverlap ?? Math.min(200, Math.floor(chunkSize / 5));
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RagError(
      'invalid_config',
      `${where}: chunkSize is ${chunkSize}, expected an integer >= 1`,
    );
  }
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
    throw new RagError(
      'invalid_config',
      `${where}: chunkOverlap is ${chunkOverlap}, expected an integer >= 0 and smaller than chunkSize (${chunkSize})`,
    );
  }
  return { chunkSize, chunkOverlap };
}

/** Builds `splitDocuments` from a `split` function. */
export function splitterFrom(
  split: (text: string, source?: { id?: string; metadata?: Metadata }) => Chunk[],
): TextSplitter {
  return {
    split,
    splitDocuments: (documents) =>
      documents.flatMap((document) =>
        split(document.text, { id: document.id, metadata: document.metadata }),
      ),
  };
}
