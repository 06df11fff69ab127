import { describe, expect, it } from 'vitest';
import { quantize } from './quantize.js';

describe('llmkit quantize', () => {
  it('names a bad or missing flag', async () => {
    await expect(quantize(['--out', 'x', '--format', 'int8'])).rejects.toThrow(
      /--checkpoint DIR is required/,
    );
    await expect(quantize(['--checkpoint', 'x', '--format', 'int8'])).rejects.toThrow(
      /--out DIR is required/,
    );
    await expect(quantize(['--checkpoint', 'x', '--out', 'y', '--format', 'int3'])).rejects.toThrow(
      /--format int3: expected one of fp16, bf16, int8, int4, nf4, q8_0, q4_0/,
    );
  });
});
