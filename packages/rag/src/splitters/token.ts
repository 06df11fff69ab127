// Splitting by tokens: windows of chunkSize token ids, each starting chunkSize - chunkOverlap
// tokens after the previous (LangChain.js's TokenTextSplitter), with character offsets taken from
// the tokenizer's own offsets, so every chunk is an exact slice of the source.
//
// Not handled: a window edge inside a character (a byte-level token that covers half of an emoji)
// moves to that character's start, so such a chunk holds one partial token fewer or more.
import {
  type ChunkSizeOptions,
  type Chunk,
  resolveChunkSizes,
  splitterFrom,
  type TextSplitter,
} from './chunk.js';
import { RagError } from '../errors.js';

/** A tokenizer that reports where each token starts (an `Encoding` of @llmkit/tokenizer fits). */
export interface OffsetTokenizer {
  /** Token ids and, for each, the UTF-16 offset in `text` of the character where it starts. */
  encodeWithOffsets(text: string): { ids: number[]; offsets: number[] };
}

/** Options of {@link createTokenSplitter}. */
export interface TokenSplitterOptions extends ChunkSizeOptions {
  /** The tokenizer whose tokens are counted, e.g. `getEncoding('cl100k_base')`. */
  tokenizer: OffsetTokenizer;
}

/**
 * Splits text into windows of at most `chunkSize` tokens (default 1000) overlapping by
 * `chunkOverlap` tokens (default 200). Each chunk's metadata gets `tokenCount`.
 *
 * @example
 * ```ts
 * const splitter = createTokenSplitter({ tokenizer: getEncoding('cl100k_base'), chunkSize: 4, chunkOverlap: 1 });
 * splitter.split('the quick brown fox jumps over').map((c) => c.text);
 * // [ 'the quick brown fox', ' fox jumps over' ]
 * ```
 */
export function createTokenSplitter(options: TokenSplitterOptions): TextSplitter {
  if (typeof options?.tokenizer?.encodeWithOffsets !== 'function') {
    throw new RagError(
      'invalid_config',
      'createTokenSplitter: tokenizer must have encodeWithOffsets(text), e.g. getEncoding("cl100k_base")',
    );
  }
  const { chunkSize, chunkOverlap } = resolveChunkSizes(options, 'createTokenSplitter');
  const stride = chunkSize - chunkOverlap;
  return splitterFrom((text, source) => {
    const { ids, offsets } = options.tokenizer.encodeWithOffsets(text);
    const chunks: Chunk[] = [];
    for (let first = 0; first < ids.length; first += stride) {
      const last = Math.min(first + chunkSize, ids.length); // exclusive
      const start = offsets[first];
      const end = last < ids.length ? offsets[last] : text.length;
      if (end > start) {
        chunks.push({
          text: text.slice(start, end),
          sourceId: source?.id ?? '',
          start,
          end,
          index: chunks.length,
          metadata: { ...source?.metadata, tokenCount: last - first },
        });
      }
      if (last === ids.length) break;
    }
    return chunks;
  });
}
