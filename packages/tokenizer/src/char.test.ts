import { describe, expect, it } from 'vitest';
import { CharTokenizer } from './char.js';
import { TokenizerError } from './errors.js';

describe('CharTokenizer', () => {
  it('builds a sorted vocabulary and round-trips text', () => {
    const tok = CharTokenizer.fromText('hello world');
    expect(tok.chars.join('')).toBe(' dehlorw');
    expect(tok.encode('hello')).toEqual([3, 2, 4, 4, 5]);
    expect(tok.decode(tok.encode('world hello'))).toBe('world hello');
  });

  it('handles astral characters as one id', () => {
    const tok = CharTokenizer.fromText('a😀b');
    expect(tok.vocabSize).toBe(3);
    expect(tok.decode(tok.encode('😀a'))).toBe('😀a');
  });

  it('saves and loads through JSON', () => {
    const tok = CharTokenizer.fromText('The quick brown fox');
    const back = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(back.chars).toEqual(tok.chars);
  });

  it('names the unknown character and the bad id', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.encode('abz')).toThrow(/"z" at offset 2/);
    expect(() => tok.decode([0, 7])).toThrow(TokenizerError);
    expect(() => tok.decode([0, 7])).toThrow(/id 7 at position 1/);
  });
});
