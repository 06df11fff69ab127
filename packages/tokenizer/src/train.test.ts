import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { encodingFromJSON, encodingToJSON, loadEncodingFile, saveEncoding } from './file.js';
import { FEATURE_SAMPLES } from './testing/corpus.js';
import { trainBpe } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-bpe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAKESPEARE = fileURLToPath(
  new URL('../../../../shared/data/tinyshakespeare.txt', import.meta.url),
);
const corpus = existsSync(SHAKESPEARE)
  ? readFileSync(SHAKESPEARE, 'utf8').slice(0, 200_000)
  : FEATURE_SAMPLES.filter((s) => s.length < 400)
      .join('\n')
      .repeat(20);

describe('trainBpe', () => {
  it('merges the most frequent pair first, ties by smallest ids (hand-traced)', () => {
    // pieces "low", " lower", " lowest": (l,o) and (o,w) occur 3 times; (l,o) has smaller ids
    const enc = trainBpe('low lower lowest', { vocabSize: 260 });
    expect(enc.decode([256])).toBe('lo');
    expect(enc.decode([257])).toBe('low');
    expect(enc.decode([258])).toBe(' low'); // (' ', low) beats (w, e): both twice, 32 < 119
    expect(enc.decode([259])).toBe(' lowe');
    expect(enc.encode('lowest')).toEqual([257, 101, 115, 116]);
    expect(enc.encode(' lowest')).toEqual([259, 115, 116]);
  });

  it('is deterministic and round-trips text', () => {
    const a = trainBpe(corpus, { vocabSize: 600 });
    const b = trainBpe(corpus, { vocabSize: 600 });
    expect(encodingToJSON(a)).toEqual(encodingToJSON(b));
    expect(a.vocabSize).toBe(600);
    for (const text of FEATURE_SAMPLES.filter((s) => s.isWellFormed()))
      expect(a.decode(a.encode(text, { disallowedSpecial: [] }))).toBe(text);
  });

  it('saves and loads through its file, encoding identically after reload', () => {
    const enc = trainBpe(corpus, { vocabSize: 700, specialTokens: ['<|endoftext|>', '<|pad|>'] });
    const path = join(dir, 'vocab.json');
    saveEncoding(enc, path);
    const back = loadEncodingFile(path);
    expect(back.vocabSize).toBe(700);
    expect(back.specialTokens).toEqual({ '<|endoftext|>': 698, '<|pad|>': 699 });
    const text = `${corpus.slice(0, 20_000)}<|endoftext|>`;
    expect(back.encode(text, { allowedSpecial: 'all' })).toEqual(
      enc.encode(text, { allowedSpecial: 'all' }),
    );
  });

  it('writes files that tiktoken itself loads and encodes identically', () => {
    const enc = trainBpe(corpus, { vocabSize: 800 });
    const file = encodingToJSON(enc);
    const oracle = new Tiktoken(file.bpe_ranks, file.special_tokens, file.pat_str);
    try {
      for (const text of [corpus.slice(50_000, 60_000), ...FEATURE_SAMPLES]) {
        expect(enc.encodeOrdinary(text)).toEqual(Array.from(oracle.encode_ordinary(text)));
      }
    } finally {
      oracle.free();
    }
  });

  it('rejects a bad vocabulary size and a malformed file with clear errors', () => {
    expect(() => trainBpe('abc', { vocabSize: 100 })).toThrow(
      /vocabSize 100 must be an integer from 256/,
    );
    expect(() => trainBpe('abc', { vocabSize: 257, specialTokens: ['<a>', '<b>'] })).toThrow(
      /from 258/,
    );
    // @ts-expect-error: a malformed file on purpose
    expect(() => encodingFromJSON({ format: 'other' })).toThrow(
      /format is "other", expected "llmkit-bpe"; pat_str must be a string/,
    );
    expect(() => loadEncodingFile(join(dir, 'missing.json'))).toThrow(
      /cannot read .*missing\.json/,
    );
    // the shared codes: a bad option, a damaged file, a missing one
    expect(() => trainBpe('abc', { vocabSize: 100 })).toThrow(
      expect.objectContaining({ name: 'TokenizerError', code: 'invalid_config' }),
    );
    // @ts-expect-error: a malformed file on purpose
    expect(() => encodingFromJSON({ format: 'other' })).toThrow(
      expect.objectContaining({ code: 'corrupt_file' }),
    );
    writeFileSync(join(dir, 'truncated.json'), '{"format": "llmkit-b');
    expect(() => loadEncodingFile(join(dir, 'truncated.json'))).toThrow(
      expect.objectContaining({ code: 'corrupt_file' }),
    );
    expect(() => loadEncodingFile(join(dir, 'missing.json'))).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
  });
});
