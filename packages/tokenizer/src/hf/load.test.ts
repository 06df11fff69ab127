import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmkitError } from '@llmkit/utils';
import { describe, expect, it } from 'vitest';
import { lenmlFiles } from '../testing/hf-files.js';
import { loadTokenizer } from './load.js';
import { Tokenizer } from './tokenizer.js';

describe('loadTokenizer', () => {
  it('loads a model folder with tokenizer.json and tokenizer_config.json', async () => {
    const { json, config } = lenmlFiles('qwen3');
    const dir = await mkdtemp(join(tmpdir(), 'llmkit-hf-'));
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    const tokenizer = await loadTokenizer(dir);
    expect(tokenizer.encode('Hello world')).toEqual([9707, 1879]);
    expect(tokenizer.eosToken).toBe('<|im_end|>');
    const direct = await loadTokenizer(join(dir, 'tokenizer.json'));
    expect(direct.encode('Hello world')).toEqual([9707, 1879]);
  });

  it('names what is missing or unsupported', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmkit-hf-'));
    await expect(loadTokenizer(join(dir, 'nope'))).rejects.toThrow(/does not exist/);
    await expect(loadTokenizer(dir)).rejects.toThrow(/no tokenizer.json in/);
    await writeFile(join(dir, 'tokenizer.json'), '{"model": ');
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'corrupt_file' });
    const unigram = { model: { type: 'Unigram', vocab: [['a', 0]] } };
    expect(() => new Tokenizer(unigram as never)).toThrow(/model type "Unigram" is not supported/);
    const precompiled = {
      normalizer: { type: 'Precompiled' },
      model: { type: 'BPE', vocab: {}, merges: [] },
    };
    expect(() => new Tokenizer(precompiled as never)).toThrow(
      /normalizer type "Precompiled" is not supported/,
    );
    const badMerge = { model: { type: 'BPE', vocab: { a: 0 }, merges: ['a b'] } };
    expect(() => new Tokenizer(badMerge as never)).toThrow(LlmkitError);
    expect(() => new Tokenizer(badMerge as never)).toThrow(
      /merge 0 \("a b"\) names a token missing/,
    );
  });

  it('rejects bad ids on decode with the id and the vocabulary size', () => {
    const { json, config } = lenmlFiles('llama2');
    const tokenizer = new Tokenizer(json, config);
    expect(() => tokenizer.decode([1, 99999999])).toThrow(
      'decode: token id 99999999 is not in the vocabulary of 32000',
    );
    expect(() => tokenizer.decode([-1])).toThrow(/not a non-negative integer/);
  });
});
