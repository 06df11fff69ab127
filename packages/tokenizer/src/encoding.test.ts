import { describe, expect, it } from 'vitest';
import { TokenizerError } from './errors.js';
import { encodingForModel, encodingNameForModel, getEncoding, loadEncoding } from './registry.js';
import { StreamingDecoder } from './streaming.js';
import { FEATURE_SAMPLES, randomUnicode } from './testing/corpus.js';

const cl100k = getEncoding('cl100k_base');
const wellFormed = [...FEATURE_SAMPLES, ...randomUnicode(200, 3)].filter((s) => s.isWellFormed());

describe('Encoding', () => {
  it('decode(encode(s)) === s for valid strings, on every encoding', () => {
    for (const name of ['gpt2', 'p50k_base', 'cl100k_base', 'o200k_base'] as const) {
      const enc = getEncoding(name);
      for (const text of wellFormed) expect(enc.decode(enc.encodeOrdinary(text))).toBe(text);
    }
  });

  it('encodeOrdinary never throws and turns lone surrogates into U+FFFD, as TextEncoder', () => {
    const text = 'a\ud800b\udfffc\ud83d';
    expect(cl100k.decode(cl100k.encodeOrdinary(text))).toBe('a\ufffdb\ufffdc\ufffd');
  });

  it('rejects special tokens in text by default and names them', () => {
    expect(() => cl100k.encode('hi <|endoftext|>')).toThrow(/"<\|endoftext\|>" at offset 3/);
    expect(() => cl100k.encode('hi <|endoftext|>')).toThrow(TokenizerError);
  });

  it('encodes allowed special tokens as their ids and others as text when not disallowed', () => {
    expect(cl100k.encode('a<|endoftext|>b', { allowedSpecial: ['<|endoftext|>'] })).toEqual([
      64, 100257, 65,
    ]);
    expect(cl100k.encode('<|endoftext|>', { disallowedSpecial: [] })).toEqual(
      cl100k.encodeOrdinary('<|endoftext|>'),
    );
    expect(() =>
      cl100k.encode('<|fim_prefix|><|endoftext|>', { allowedSpecial: ['<|endoftext|>'] }),
    ).toThrow(/fim_prefix/);
  });

  it('counts tokens', () => {
    expect(cl100k.countTokens('hello world')).toBe(2);
  });

  it('names an id outside the vocabulary', () => {
    expect(() => cl100k.decode([15339, 999_999])).toThrow(/id 999999 at position 1/);
    expect(() => cl100k.decode([-1])).toThrow(TokenizerError);
  });

  it('gives token offsets that point at the character where each token starts', () => {
    const text = 'héllo wörld 👋👋 中文 done';
    const { ids, offsets } = cl100k.encodeWithOffsets(text);
    expect(ids).toEqual(cl100k.encodeOrdinary(text));
    // independently: the byte where each token starts, mapped to the character containing it
    const utf8 = new TextEncoder();
    const charStartingAtByte: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const width = utf8.encode(String.fromCodePoint(text.codePointAt(i)!)).length;
      for (let b = 0; b < width; b++) charStartingAtByte.push(i);
      if (text.codePointAt(i)! > 0xffff) i++;
    }
    let byte = 0;
    const expected = ids.map((id) => {
      const at = charStartingAtByte[byte];
      byte += cl100k.tokenBytes(id).length;
      return at;
    });
    expect(offsets).toEqual(expected);
  });

  it('keeps a leading byte-order mark when decoding', () => {
    expect(cl100k.decode(cl100k.encodeOrdinary('\ufeffhi'))).toBe('\ufeffhi');
  });
});

describe('StreamingDecoder', () => {
  it('equals one-shot decode for every split point, and holds incomplete characters', () => {
    for (const text of ['héllo 👋 wörld', '中文字符', '👩‍👩‍👧‍👦🏽', FEATURE_SAMPLES[20]]) {
      const ids = cl100k.encodeOrdinary(text);
      const stream = new StreamingDecoder(cl100k);
      const parts = ids.map((id) => stream.push(id));
      parts.push(stream.flush());
      expect(parts.join('')).toBe(text);
      for (const part of parts) expect(part.includes('\ufffd')).toBe(false);
    }
  });

  it('matches decode on arbitrary id sequences, including broken UTF-8', () => {
    const ids = cl100k.encodeOrdinary('👋👋 é');
    for (let cut = 0; cut <= ids.length; cut++) {
      const prefix = ids.slice(0, cut);
      const stream = new StreamingDecoder(cl100k);
      const streamed = prefix.map((id) => stream.push(id)).join('') + stream.flush();
      expect(streamed).toBe(cl100k.decode(prefix));
    }
  });
});

describe('registry', () => {
  it('lists the valid names for an unknown encoding', () => {
    // @ts-expect-error: an invalid name on purpose
    expect(() => getEncoding('gpt5')).toThrow(
      /unknown encoding "gpt5"; expected one of gpt2, r50k_base, p50k_base, p50k_edit, cl100k_base, o200k_base/,
    );
  });

  it('maps models to encodings as tiktoken', () => {
    expect(encodingNameForModel('gpt-4o')).toBe('o200k_base');
    expect(encodingNameForModel('gpt-4o-mini-2024-07-18')).toBe('o200k_base');
    expect(encodingNameForModel('gpt-4-0613')).toBe('cl100k_base');
    expect(encodingNameForModel('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingNameForModel('text-davinci-003')).toBe('p50k_base');
    expect(encodingNameForModel('davinci')).toBe('r50k_base');
    expect(encodingForModel('gpt2').name).toBe('gpt2');
    expect(() => encodingNameForModel('llama-3')).toThrow(
      /no encoding is known for model "llama-3"/,
    );
  });

  it('loads asynchronously to the same encoding', async () => {
    expect(await loadEncoding('cl100k_base')).toBe(cl100k);
    const p50kEdit = await loadEncoding('p50k_edit');
    expect(p50kEdit.specialTokens['<|fim_middle|>']).toBe(50282);
  });
});
