import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { get_encoding, type Tiktoken } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { ENCODING_NAMES, getEncoding } from './registry.js';
import { FEATURE_SAMPLES, randomUnicode } from './testing/corpus.js';

// tiktoken (Rust compiled to WebAssembly) is the oracle: our ids must equal its ids.
const SHAKESPEARE = fileURLToPath(
  new URL('../../../../shared/data/tinyshakespeare.txt', import.meta.url),
);
const RANDOM = randomUnicode(400, 7);

// Python tiktoken's Encoding.n_vocab for each encoding
const N_VOCAB = {
  gpt2: 50257,
  r50k_base: 50257,
  p50k_base: 50281,
  p50k_edit: 50284,
  cl100k_base: 100277,
  o200k_base: 200019,
};

const oracles: Tiktoken[] = [];
afterAll(() => {
  for (const o of oracles) o.free();
});

describe.each(ENCODING_NAMES)('%s matches tiktoken', (name) => {
  const ours = getEncoding(name);
  const oracle = get_encoding(name);
  oracles.push(oracle);
  const reference = (text: string) => Array.from(oracle.encode_ordinary(text));

  it('on every feature sample', () => {
    for (const text of FEATURE_SAMPLES)
      expect(ours.encodeOrdinary(text), JSON.stringify(text.slice(0, 60))).toEqual(reference(text));
  });

  it('on random Unicode from every plane', () => {
    for (const text of RANDOM)
      expect(ours.encodeOrdinary(text), JSON.stringify(text)).toEqual(reference(text));
  });

  it('on all feature samples joined (pieces interact across boundaries)', () => {
    const text = FEATURE_SAMPLES.join(' \n');
    expect(ours.encodeOrdinary(text)).toEqual(reference(text));
  });

  it('with special tokens allowed, as tiktoken encode(text, "all")', () => {
    const specials = Object.keys(ours.specialTokens);
    const text = `start ${specials.join(' middle ')} end${specials[0]}`;
    expect(ours.encode(text, { allowedSpecial: 'all' })).toEqual(
      Array.from(oracle.encode(text, 'all')),
    );
  });

  it.skipIf(!existsSync(SHAKESPEARE))(
    'on Tiny Shakespeare (skipped when ../shared is absent)',
    () => {
      const text = readFileSync(SHAKESPEARE, 'utf8');
      const ids = ours.encodeOrdinary(text);
      const expected = reference(text);
      expect(ids.length).toBe(expected.length);
      expect(ids).toEqual(expected);
    },
  );

  it('vocabulary size and special tokens equal tiktoken', () => {
    const mergeable = oracle.token_byte_values().length;
    expect(ours.mergeableRanks().size).toBe(mergeable);
    // vocabSize is tiktoken's n_vocab (one past the largest id); tiktoken decodes that last id
    expect(ours.vocabSize).toBe(N_VOCAB[name]);
    expect(oracle.decode_single_token_bytes(ours.vocabSize - 1).length).toBeGreaterThan(0);
    for (const [token, id] of Object.entries(ours.specialTokens)) {
      expect(Array.from(oracle.encode(token, 'all'))).toEqual([id]);
    }
  });
});
