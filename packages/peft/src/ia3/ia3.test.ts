// IA3 beyond the method table: config rules.
import { manualSeed } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { getPeftModel } from '../index.js';

function makeBase(): GPT {
  manualSeed(0);
  return new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
}

describe('ia3 config', () => {
  it('requires the feed-forward modules to be targets', () => {
    expect(() =>
      getPeftModel(makeBase(), {
        method: 'ia3',
        targetModules: ['c_attn'],
        feedforwardModules: ['mlp.c_proj'],
      }),
    ).toThrow(
      /feedforwardModules must be a subset of targetModules \("mlp.c_proj" is not a target\)/,
    );
  });
});
