import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad } from '@llmkit/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { load, save, type TransformerModel } from './checkpoint.js';
import { EncoderDecoder } from './encoder-decoder/model.js';
import { EncoderForSequenceClassification } from './encoder/heads.js';
import { llamaConfig } from './gpt/config.js';
import { GPT } from './gpt/model.js';
import { fewShotPrompt, oneShotPrompt, zeroShotPrompt } from './prompts.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sameWeights(a: TransformerModel, b: TransformerModel): Promise<void> {
  const x = a.stateDict();
  const y = b.stateDict();
  expect(Object.keys(y).sort()).toEqual(Object.keys(x).sort());
  for (const key of Object.keys(x)) {
    const bytes = async (m: Record<string, import('@llmkit/core-tensor').Tensor>) =>
      Buffer.from((await m[key].data<Float32Array>()).buffer);
    expect((await bytes(y)).equals(await bytes(x)), key).toBe(true);
  }
}

describe('save / load', () => {
  const models: [string, () => TransformerModel][] = [
    [
      'gpt-llama',
      () =>
        new GPT(
          llamaConfig({ vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 8 }),
        ),
    ],
    [
      'classifier',
      () =>
        new EncoderForSequenceClassification(
          { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 },
          3,
        ),
    ],
    [
      'seq2seq',
      () =>
        new EncoderDecoder({
          vocabSize: 11,
          blockSize: 8,
          nEncoderLayer: 1,
          nDecoderLayer: 1,
          nHead: 2,
          nEmbd: 8,
        }),
    ],
  ];
  it.each(models)('round-trips %s bit-exactly, same class and outputs', async (name, make) => {
    manualSeed(1);
    const model = make();
    await save(model, join(dir, name));
    const again = await load(join(dir, name));
    expect(again.constructor).toBe(model.constructor);
    await sameWeights(model, again);
    if (model instanceof GPT && again instanceof GPT) {
      const a = await noGrad(() => model.forward([[1, 2, 3]]).logits).data<Float32Array>();
      const b = await noGrad(() => again.forward([[1, 2, 3]]).logits).data<Float32Array>();
      expect(Array.from(b)).toEqual(Array.from(a));
    }
    model.dispose();
    again.dispose();
  });

  it('names the problem in a bad checkpoint', async () => {
    manualSeed(2);
    const model = new GPT({ vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 });
    const folder = join(dir, 'bad');
    await save(model, folder);
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    config.config.nLayer = 2;
    writeFileSync(join(folder, 'config.json'), JSON.stringify(config));
    await expect(load(folder)).rejects.toThrow(/missing keys: h\.1\./);
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ format: 'other' }));
    await expect(load(folder)).rejects.toThrow(/llmkit-transformer/);
    model.dispose();
  });
});

describe('prompt builders', () => {
  it('build zero-, one- and few-shot prompts', () => {
    expect(zeroShotPrompt({ instruction: 'Classify the sentiment.', input: 'Great film' })).toBe(
      'Classify the sentiment.\n\nInput: Great film\nOutput:',
    );
    expect(oneShotPrompt({ example: { input: '2 + 2', output: '4' }, input: '3 + 5' })).toBe(
      'Input: 2 + 2\nOutput: 4\n\nInput: 3 + 5\nOutput:',
    );
    expect(
      fewShotPrompt({
        instruction: 'Translate English to French.',
        examples: [
          { input: 'cheese', output: 'fromage' },
          { input: 'sea otter', output: 'loutre de mer' },
        ],
        input: 'peppermint',
        inputLabel: 'English:',
        outputLabel: 'French:',
        separator: '\n',
      }),
    ).toBe(
      'Translate English to French.\nEnglish: cheese\nFrench: fromage\nEnglish: sea otter\nFrench: loutre de mer\nEnglish: peppermint\nFrench:',
    );
  });
});
