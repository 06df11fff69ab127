// WordPiece (BERT): a tokenizer.json laid out exactly as bert-base-uncased's (BertNormalizer,
// BertPreTokenizer, WordPiece, TemplateProcessing `[CLS] $A [SEP]`, WordPiece decoder) over a
// small vocabulary, checked against Tokenizers.js, plus the sentence-pair and unk paths.
import { Tokenizer as PeerTokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import type { TokenizerJson } from './json.js';
import { Tokenizer } from './tokenizer.js';

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
const WORDS = [
  'the',
  'un',
  '##aff',
  '##able',
  'play',
  '##ing',
  '##ed',
  'cafe',
  'hello',
  'world',
  'token',
  '##izer',
  '##s',
  'is',
  'great',
  '中',
  '文',
  '.',
  ',',
  '!',
  "'",
  '?',
  '-',
  'don',
  '##t',
];
const vocabList = [...SPECIAL, ...letters, ...letters.map((l) => `##${l}`), ...WORDS];
const vocab = Object.fromEntries(vocabList.map((t, i) => [t, i]));
const id = (t: string) => vocab[t];

export const BERT_JSON: TokenizerJson = {
  added_tokens: SPECIAL.map((content) => ({
    id: id(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  })),
  normalizer: {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase: true,
  },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
    ],
    pair: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } },
    ],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
    },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab,
  },
};

const TEXTS = [
  'Hello, World!',
  'The unaffable tokenizers is great.',
  'Playing played PLAYS',
  'Café naïve',
  '中文 tokens',
  "don't stop-words?",
  'xyz123 \t\n  spaced',
  'ümlaut ☃ snowman',
];

describe('WordPiece (BERT layout)', () => {
  const ours = new Tokenizer(BERT_JSON, { clean_up_tokenization_spaces: true });
  const peer = new PeerTokenizer(
    BERT_JSON as never,
    { clean_up_tokenization_spaces: true } as never,
  );

  it.each(TEXTS)('%s: ids equal Tokenizers.js', (text) => {
    expect(ours.encode(text)).toEqual(peer.encode(text).ids);
  });

  it('decodes as Tokenizers.js does', () => {
    for (const text of TEXTS) {
      const ids = ours.encode(text);
      expect(ours.decode(ids, { skipSpecialTokens: true })).toBe(
        peer.decode(ids, { skip_special_tokens: true }),
      );
    }
  });

  it('greedy longest match, [CLS] ... [SEP], pairs with type ids', () => {
    const encoding = ours.encodeWithOffsets('unaffable', { pair: 'playing' });
    expect(encoding.tokens).toEqual([
      '[CLS]',
      'un',
      '##aff',
      '##able',
      '[SEP]',
      'play',
      '##ing',
      '[SEP]',
    ]);
    expect(encoding.typeIds).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(encoding.specialTokensMask).toEqual([1, 0, 0, 0, 1, 0, 0, 1]);
    expect(encoding.offsets.slice(1, 4)).toEqual([
      [0, 2],
      [2, 5],
      [5, 9],
    ]);
    // a word with no segmentation is one [UNK]
    expect(ours.encode('☃', { addSpecialTokens: false })).toEqual([id('[UNK]')]);
  });

  it('offsets survive the normalizer (lowercase, accents stripped)', () => {
    const text = 'CAFÉ World';
    const { tokens, offsets } = ours.encodeWithOffsets(text, { addSpecialTokens: false });
    expect(tokens).toEqual(['cafe', 'world']);
    expect(offsets.map(([s, e]) => text.slice(s, e))).toEqual(['CAFÉ', 'World']);
  });
});
