import { getEncoding } from '@llmkit/tokenizer';
import { describe, expect, it } from 'vitest';
import { answer, citedNumbers, fitPassages } from './answer.js';
import type { Passage } from './hybrid/retriever.js';

const source =
  'Flaps raise lift at low speed by adding camber. '.repeat(3) +
  'Drag rises with the square of speed. '.repeat(20);
const passages: Passage[] = [
  { id: 'p1', text: source.slice(0, 48), score: 3, sourceId: 'wing.md', start: 0, end: 48 },
  {
    id: 'p2',
    text: source.slice(144, source.length),
    score: 2,
    sourceId: 'wing.md',
    start: 144,
    end: source.length,
  },
  { id: 'p3', text: 'never reached', score: 1 },
];
const encoding = getEncoding('cl100k_base');

describe('fitPassages', () => {
  it('keeps whole passages within budget and cuts the first that does not fit', () => {
    const { sources, block, tokens } = fitPassages(passages, encoding, 80);
    expect(tokens).toBeLessThanOrEqual(80);
    expect(encoding.encode(block).length).toBeLessThanOrEqual(80 + 2); // pieces tokenised apart may merge
    expect(sources.map((s) => [s.number, s.id, s.truncated])).toEqual([
      [1, 'p1', false],
      [2, 'p2', true],
    ]);
    const cut = sources[1];
    expect(source.slice(cut.start, cut.end)).toBe(cut.text);
    expect(cut.end).toBeLessThan(source.length);
    expect(block).toContain(`[2] (wing.md, characters 144-${cut.end})`);
    expect(fitPassages(passages, encoding, 10_000).sources).toHaveLength(3);
  });

  it('reads special-token markers in passages as plain text', () => {
    const text = 'Documents end with <|endoftext|> in GPT-2 training data.';
    const { sources, tokens } = fitPassages([{ id: 'x', text, score: 1 }], encoding, 100);
    expect(sources[0].text).toBe(text);
    expect(tokens).toBe(encoding.encodeOrdinary(`[1]\n${text}`).length);
  });
});

describe('answer', () => {
  it('retrieves, prompts with numbered sources and returns cited sources with offsets', async () => {
    let seenPrompt = '';
    const result = await answer('What raises lift?', {
      retriever: async (_q, options) => passages.slice(0, options?.k),
      tokenizer: encoding,
      maxContextTokens: 1000,
      k: 2,
      generate: async (prompt) => {
        seenPrompt = prompt;
        return 'Flaps raise lift by adding camber [1]; drag grows with speed [2, 1].';
      },
    });
    expect(seenPrompt).toContain('[1] (wing.md, characters 0-48)\nFlaps raise lift');
    expect(seenPrompt).toMatch(/Question: What raises lift\?\nAnswer:$/);
    expect(result.prompt).toBe(seenPrompt);
    expect(result.citations.map((c) => [c.number, c.id, c.start, c.end])).toEqual([
      [1, 'p1', 0, 48],
      [2, 'p2', 144, source.length],
    ]);
    expect(result.sources).toHaveLength(2);
  });

  it('parses citation forms and validates the budget', async () => {
    expect(citedNumbers('a [3] b [1, 2][3] c [x]')).toEqual([3, 1, 2]);
    await expect(
      answer('q', {
        retriever: async () => [],
        generate: async () => '',
        tokenizer: encoding,
        maxContextTokens: 0,
      }),
    ).rejects.toThrow('maxContextTokens is 0');
  });
});
