// Prompt tuning beyond the method table: the prompted forward equals running the model on the
// real tokens' embeddings, text init copies token embeddings, and bad configs fail early.
import { manualSeed } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { getPeftModel } from '../index.js';
import { maxAbsDiff } from '../testing.js';

function makeBase(): GPT {
  manualSeed(0);
  return new GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
}

describe('prompt tuning', () => {
  it('initialises from text: the virtual tokens are the embeddings of its ids, repeated', async () => {
    const base = makeBase();
    const tokenizer = { encode: (text: string) => [...text].map((c) => c.charCodeAt(0) - 97) };
    const peft = getPeftModel(base, {
      method: 'prompt-tuning',
      numVirtualTokens: 5,
      init: 'text',
      initText: 'cab',
      tokenizer,
    });
    const prompt = peft.adapterEntries('default')[0].tensor;
    const wte = Array.from(await base.wte.weight.data<Float32Array>());
    const row = (id: number) => wte.slice(id * 16, (id + 1) * 16);
    expect(Array.from(await prompt.data<Float32Array>())).toEqual(
      [2, 0, 1, 2, 0].flatMap((id) => row(id)),
    );
  });

  it('a prompt made of real token embeddings gives those tokens’ logits for the rest', async () => {
    // virtual tokens initialised from ids [3, 4] act exactly as if the input started with 3, 4
    const base = makeBase();
    const { logits: full } = base.forward([[3, 4, 7, 8, 9]]);
    const expected = Array.from(await full.narrow(1, 2, 3).contiguous().data<Float32Array>());
    const peft = getPeftModel(base, {
      method: 'prompt-tuning',
      numVirtualTokens: 2,
      init: 'text',
      initText: 'x',
      tokenizer: { encode: () => [3, 4] },
    });
    const { logits, loss } = peft.forward([[7, 8, 9]], { targets: [[8, 9, 1]] });
    expect(logits.shape).toEqual([1, 3, 40]);
    expect(maxAbsDiff(await logits.data<Float32Array>(), expected)).toBeLessThan(1e-5);
    const { loss: reference } = base.forward([[3, 4, 7, 8, 9]], {
      targets: [[-100, -100, 8, 9, 1]],
    });
    expect(loss!.item()).toBeCloseTo(reference!.item(), 5);
    peft.disableAdapters();
    expect(peft.forward([[7, 8, 9]]).logits.shape).toEqual([1, 3, 40]);
  });

  it('rejects text init without a tokenizer and too many virtual tokens', () => {
    const base = makeBase();
    expect(() =>
      getPeftModel(base, { method: 'prompt-tuning', init: 'text', initText: 'hello' }),
    ).toThrow(/tokenizer must be an object with encode\(text\)/);
    expect(() => getPeftModel(base, { method: 'prompt-tuning', numVirtualTokens: 16 })).toThrow(
      /numVirtualTokens must be < blockSize 16, got 16/,
    );
    expect(() => getPeftModel(base, { method: 'prompt-tuning', numVirtualTokens: 0 })).toThrow(
      /numVirtualTokens must be an integer >= 1, got 0/,
    );
    expect(base.namedParameters().some(([n]) => n.includes('prompt'))).toBe(false);
  });
});
