// Markdown-aware splitting: the text is cut into sections at ATX headings ("# ..." to "###### ...",
// outside fenced code blocks); a section is its heading line plus everything up to the next
// heading. Each section is split on its own with the recursive splitter, so a heading always
// begins the first chunk of its section and no chunk spans two sections. Every chunk's metadata
// gets `headings`: the heading path above it, e.g. ["Install", "From source"].
//
// Not handled: setext headings (underlined with === or ---) count as text.
import {
  type ChunkSizeOptions,
  type Chunk,
  resolveChunkSizes,
  splitterFrom,
  type TextSplitter,
} from './chunk.js';
import { DEFAULT_SEPARATORS, measureFor, splitRange, type TokenCounter } from './recursive.js';

/** Options of {@link createMarkdownSplitter}. */
export interface MarkdownSplitterOptions extends ChunkSizeOptions {
  /** When given, sizes count this tokenizer's tokens instead of characters. */
  tokenizer?: TokenCounter;
}

/** A section of a Markdown text: `[start, end)` and the heading path that covers it. */
export interface MarkdownSection {
  /** Offset of the section's first character (its heading line, if it has one). */
  start: number;
  /** Offset one past the section's end. */
  end: number;
  /** Heading texts from the top level down to this section's own heading. */
  headings: string[];
}

/**
 * Cuts Markdown into sections at ATX headings outside fenced code blocks.
 *
 * @example
 * ```ts
 * markdownSections('intro\n# A\ntext\n## B\nmore').map((s) => s.headings);
 * // [ [], [ 'A' ], [ 'A', 'B' ] ]
 * ```
 */
export function markdownSections(text: string): MarkdownSection[] {
  const sections: MarkdownSection[] = [];
  const path: { level: number; title: string }[] = [];
  let sectionStart = 0;
  let fence: string | null = null;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1];
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
    } else if (fence === null) {
      const heading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
      if (heading) {
        if (lineStart > sectionStart) {
          sections.push({
            start: sectionStart,
            end: lineStart,
            headings: path.map((h) => h.title),
          });
        }
        const level = heading[1].length;
        while (path.length > 0 && path[path.length - 1].level >= level) path.pop();
        path.push({ level, title: (heading[2] ?? '').trim() });
        sectionStart = lineStart;
      }
    }
    lineStart = lineEnd + 1;
  }
  if (text.length > sectionStart) {
    sections.push({ start: sectionStart, end: text.length, headings: path.map((h) => h.title) });
  }
  return sections;
}

/**
 * A Markdown splitter: sections at headings, then recursive splitting inside each section.
 *
 * @example
 * ```ts
 * const splitter = createMarkdownSplitter({ chunkSize: 200, chunkOverlap: 0 });
 * splitter.split('# Setup\nRun pnpm install.\n# Use\nCall search().').map((c) => c.metadata.headings);
 * // [ [ 'Setup' ], [ 'Use' ] ]
 * ```
 */
export function createMarkdownSplitter(options: MarkdownSplitterOptions = {}): TextSplitter {
  const sizes = resolveChunkSizes(options, 'createMarkdownSplitter');
  return splitterFrom((text, source) => {
    const measure = measureFor(text, options.tokenizer);
    const chunks: Chunk[] = [];
    for (const section of markdownSections(text)) {
      for (const span of splitRange(text, section, DEFAULT_SEPARATORS, sizes, measure)) {
        chunks.push({
          text: text.slice(span.start, span.end),
          sourceId: source?.id ?? '',
          start: span.start,
          end: span.end,
          index: chunks.length,
          metadata: { ...source?.metadata, headings: section.headings },
        });
      }
    }
    return chunks;
  });
}
