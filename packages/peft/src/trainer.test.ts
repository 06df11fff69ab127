// llmkit's Trainer over a PeftModel: the optimizer holds only the adapter's tensors (frozen base
// parameters get no AdamW state) and training leaves the base unchanged.
import { manualSeed } from '@llmkit/core-tensor';
import { causalLanguageModelLoss, TokenWindows, Trainer } from '@llmkit/trainer';
import { GPT } from '@llmkit/transformer';
import { expect, it } from 'vitest';
import { getPeftModel } from './index.js';

it('Trainer optimizes only the adapter of a PeftModel', async () => {
  manualSeed(0);
  const base = new GPT({ vocabSize: 20, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 });
  const frozen = base.parameters();
  const before = await Promise.all(frozen.map((p) => p.data<Float32Array>().then(Array.from)));
  const peft = getPeftModel(base, { method: 'lora', r: 2, targetModules: ['c_attn', 'c_fc'] });
  const tokens = Array.from({ length: 400 }, (_, i) => (i * 7) % 20);
  const trainer = new Trainer({
    model: peft,
    loss: causalLanguageModelLoss,
    data: new TokenWindows(tokens, { blockSize: 8, batchSize: 4 }),
    config: {
      maxSteps: 3,
      evalInterval: 3,
      evalBatches: 1,
      schedule: { kind: 'constant', learningRate: 1e-2 },
    },
  });
  const owned = trainer.optimizer.paramGroups.flatMap((g) => g.params);
  expect(new Set(owned)).toEqual(new Set(peft.trainableParameters()));
  expect(owned.reduce((n, p) => n + p.size, 0)).toBe(2 * (16 + 48) + 2 * (16 + 64));
  await trainer.train();
  const after = await Promise.all(frozen.map((p) => p.data<Float32Array>().then(Array.from)));
  expect(after).toEqual(before);
});
