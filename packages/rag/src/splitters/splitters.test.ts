import { getEncoding } from '@llmkit/tokenizer';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { describe, expect, it } from 'vitest';
import { RagError } from '../errors.js';
import type { Chunk } from './chunk.js';
import { createMarkdownSplitter, markdownSections } from './markdown.js';
import { createRecursiveCharacterSplitter } from './recursive.js';
import { createTokenSplitter } from './token.js';

// a text with paragraphs, lines, long words and an astral character, deterministic
function sampleText(seed: number, words: number): string {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const vocabulary = [
    'lift',
    'drag',
    'boundary',
    'layer',
    'wing',
    'flow',
    'shock',
    'é',
    '👋',
    'supercalifragilistic'.repeat(3),
  ];
  const parts: string[] = [];
  for (let i = 0; i < words; i++) {
    parts.push(vocabulary[Math.floor(next() * vocabulary.length)]);
    const r = next();
    parts.push(r < 0.05 ? '\n\n' : r < 0.12 ? '\n' : ' ');
  }
  return parts.join('');
}

function checkInvariants(
  text: string,
  chunks: Chunk[],
  size: number,
  overlap: number,
  measure = (s: string) => s.length,
) {
  for (const chunk of chunks) {
    expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
    expect(measure(chunk.text)).toBeLessThanOrEqual(size);
    expect(chunk.text.trim()).toBe(chunk.text);
    expect(chunk.text.length).toBeGreaterThan(0);
  }
  for (let i = 1; i < chunks.length; i++) {
    expect(chunks[i].start).toBeGreaterThan(chunks[i - 1].start);
    expect(chunks[i].end).toBeGreaterThan(chunks[i - 1].end);
    const shared = Math.max(0, chunks[i - 1].end - chunks[i].start);
    expect(measure(text.slice(chunks[i].start, chunks[i].start + shared))).toBeLessThanOrEqual(
      overlap,
    );
  }
  // every non-space character is covered by some chunk
  const covered = new Uint8Array(text.length);
  for (const chunk of chunks) covered.fill(1, chunk.start, chunk.end);
  for (let i = 0; i < text.length; i++)
    if (!/\s/.test(text[i])) expect(covered[i], `offset ${i}`).toBe(1);
}

describe('createRecursiveCharacterSplitter', () => {
  it('gives the same chunks as LangChain.js on its defaults and on small sizes', async () => {
    for (const [size, overlap] of [
      [1000, 200],
      [100, 20],
      [37, 0],
      [50, 25],
    ]) {
      const text = sampleText(size, 800);
      const ours = createRecursiveCharacterSplitter({
        chunkSize: size,
        chunkOverlap: overlap,
      }).split(text);
      const theirs = await new RecursiveCharacterTextSplitter({
        chunkSize: size,
        chunkOverlap: overlap,
      }).splitText(text);
      expect(ours.map((c) => c.text)).toEqual(theirs);
      checkInvariants(text, ours, size, overlap);
    }
  });

  it('keeps invariants over many random texts and carries source id and metadata', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const size = 10 + seed * 7;
      const overlap = seed % 3 === 0 ? 0 : Math.floor(size / 4);
      const text = sampleText(seed, 300);
      const chunks = createRecursiveCharacterSplitter({
        chunkSize: size,
        chunkOverlap: overlap,
      }).split(text, { id: `d${seed}`, metadata: { lang: 'en' } });
      checkInvariants(text, chunks, size, overlap);
      expect(
        chunks.every(
          (c, i) => c.sourceId === `d${seed}` && c.index === i && c.metadata.lang === 'en',
        ),
      ).toBe(true);
    }
  });

  it('overlaps consecutive chunks by whole words', () => {
    const chunks = createRecursiveCharacterSplitter({ chunkSize: 20, chunkOverlap: 5 }).split(
      'One two three four five six seven.',
    );
    expect(chunks.map((c) => [c.text, c.start, c.end])).toEqual([
      ['One two three four', 0, 18],
      ['four five six', 14, 27],
      ['six seven.', 24, 34],
    ]);
  });

  it('validates overlap < size', () => {
    expect(() => createRecursiveCharacterSplitter({ chunkSize: 100, chunkOverlap: 100 })).toThrow(
      /chunkOverlap is 100.*smaller than chunkSize \(100\)/,
    );
    expect(() => createRecursiveCharacterSplitter({ chunkSize: 0 })).toThrow(RagError);
  });

  it('counts tokens when given a tokenizer', () => {
    const encoding = getEncoding('cl100k_base');
    const text = sampleText(7, 400);
    const chunks = createRecursiveCharacterSplitter({
      chunkSize: 40,
      chunkOverlap: 8,
      tokenizer: encoding,
    }).split(text);
    checkInvariants(text, chunks, 40, 8, (s) => encoding.encode(s).length);
  });
});

describe('createTokenSplitter', () => {
  it('makes windows of chunkSize tokens with exact offsets', () => {
    const encoding = getEncoding('cl100k_base');
    const text = sampleText(3, 500);
    const chunks = createTokenSplitter({
      tokenizer: encoding,
      chunkSize: 50,
      chunkOverlap: 10,
    }).split(text, { id: 'x' });
    const ids = encoding.encode(text);
    expect(chunks.length).toBe(Math.ceil((ids.length - 50) / 40) + 1);
    for (const chunk of chunks) {
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.metadata.tokenCount).toBeLessThanOrEqual(50);
    }
    expect(chunks[0].start).toBe(0);
    expect(chunks.at(-1)!.end).toBe(text.length);
    // window i starts 40 tokens after window i-1: decoding the token ids gives the same text
    const { offsets } = encoding.encodeWithOffsets(text);
    expect(chunks[1].start).toBe(offsets[40]);
    expect(chunks[0].text).toBe(encoding.decode(ids.slice(0, 50)));
  });

  it('matches the documented example', () => {
    const splitter = createTokenSplitter({
      tokenizer: getEncoding('cl100k_base'),
      chunkSize: 4,
      chunkOverlap: 1,
    });
    expect(splitter.split('the quick brown fox jumps over').map((c) => c.text)).toEqual([
      'the quick brown fox',
      ' fox jumps over',
    ]);
  });
});

describe('createMarkdownSplitter', () => {
  const doc = [
    'Intro line.',
    '',
    '# Install',
    '',
    'Run `pnpm i`.',
    '',
    '```sh',
    '# not a heading',
    '```',
    '',
    '## From source',
    'Clone it, then build it with care and patience.',
    '',
    '# Use',
    'Call search().',
  ].join('\n');

  it('finds sections at headings, ignoring fenced code', () => {
    expect(markdownSections(doc).map((s) => s.headings)).toEqual([
      [],
      ['Install'],
      ['Install', 'From source'],
      ['Use'],
    ]);
  });

  it('keeps headings with their sections and never crosses a section', () => {
    const chunks = createMarkdownSplitter({ chunkSize: 40, chunkOverlap: 0 }).split(doc, {
      id: 'readme',
    });
    const sections = markdownSections(doc);
    for (const chunk of chunks) {
      expect(doc.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.text.length).toBeLessThanOrEqual(40);
      const section = sections.find((s) => s.start <= chunk.start && chunk.end <= s.end);
      expect(section?.headings).toEqual(chunk.metadata.headings);
    }
    // a heading starts the first chunk of its section, with text after it
    const install = chunks.find((c) => c.text.startsWith('# Install'))!;
    expect(install.text).toContain('Run `pnpm i`.');
    expect(chunks.find((c) => c.text.startsWith('## From source'))!.metadata.headings).toEqual([
      'Install',
      'From source',
    ]);
    expect(chunks.some((c) => c.text.startsWith('# not a heading'))).toBe(false);
  });
});
