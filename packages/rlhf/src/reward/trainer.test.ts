import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '@llmkit/core-tensor';
import { EncoderForSequenceClassification } from '@llmkit/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import type { PreferencePair } from '../dpo/trainer.js';
import { snapshot, tinyTokenizer } from '../testing/tiny.js';
import { classifierReward, pairAccuracy, trainRewardModel } from './trainer.js';

// preference: completions with more 'e's are better (a rule a tiny model can learn)
const words = [
  'bee',
  'tree',
  'cat',
  'dog',
  'see',
  'fog',
  'free',
  'mud',
  'eel',
  'box',
  'keen',
  'rug',
];
function makePairs(count: number, offset: number): PreferencePair[] {
  const out: PreferencePair[] = [];
  for (let i = 0; i < count; i++) {
    const a = words[(i * 5 + offset) % words.length];
    const b = words[(i * 7 + offset + 3) % words.length];
    const ea = [...a].filter((c) => c === 'e').length;
    const eb = [...b].filter((c) => c === 'e').length;
    if (ea === eb) continue;
    const [chosen, rejected] = ea > eb ? [a, b] : [b, a];
    out.push({ prompt: 'i like ', chosen, rejected });
  }
  return out;
}
const config = { vocabSize: 30, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('trainRewardModel', () => {
  it('learns the preference: the loss falls and held-out pairs are ranked right', async () => {
    manualSeed(0);
    const model = new EncoderForSequenceClassification(config, 1);
    const pairs = makePairs(40, 0);
    const evalPairs = makePairs(20, 1);
    const before = pairAccuracy(model, tinyTokenizer, evalPairs);
    const weights = snapshot(model);
    const { history, evalAccuracy, reward } = await trainRewardModel({
      model,
      tokenizer: tinyTokenizer,
      pairs,
      evalPairs,
      steps: 60,
      batchSize: 8,
      optimizer: { lr: 3e-3 },
    });
    const first = history.slice(0, 5).reduce((a, m) => a + m.loss, 0) / 5;
    const last = history.slice(-5).reduce((a, m) => a + m.loss, 0) / 5;
    expect(last).toBeLessThan(first - 0.2);
    expect(evalAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(evalAccuracy).toBeGreaterThan(before);
    expect(snapshot(model).some((x, i) => x !== weights[i])).toBe(true);
    expect(await reward('i like ', 'eeee')).toBeGreaterThan(await reward('i like ', 'dog'));
  }, 60_000);

  it('resumes exactly and rejects chosen = rejected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rm-'));
    dirs.push(dir);
    const pairs = makePairs(20, 0);
    const options = { tokenizer: tinyTokenizer, pairs, batchSize: 4, optimizer: { lr: 3e-3 } };
    manualSeed(1);
    const straight = new EncoderForSequenceClassification(config, 1);
    const full = await trainRewardModel({ ...options, model: straight, steps: 4 });
    manualSeed(1);
    await trainRewardModel({
      ...options,
      model: new EncoderForSequenceClassification(config, 1),
      steps: 2,
      checkpoint: { dir },
    });
    manualSeed(1);
    const resumed = new EncoderForSequenceClassification(config, 1);
    const rest = await trainRewardModel({
      ...options,
      model: resumed,
      steps: 4,
      checkpoint: { dir, resume: true },
    });
    expect(rest.history.map((m) => m.loss)).toEqual(full.history.slice(2).map((m) => m.loss));
    expect(snapshot(resumed)).toEqual(snapshot(straight));
    await expect(
      trainRewardModel({
        ...options,
        model: resumed,
        steps: 1,
        pairs: [{ prompt: 'a', chosen: 'b', rejected: 'b' }],
      }),
    ).rejects.toThrow(/pair 0: chosen equals rejected/);
  }, 60_000);
});

describe('classifierReward', () => {
  it('is the softmax probability of the positive label', async () => {
    manualSeed(2);
    const model = new EncoderForSequenceClassification(config, 2);
    model.eval();
    const reward = classifierReward({ model, tokenizer: tinyTokenizer, positiveLabel: 1 });
    const { logits } = model.forward([tinyTokenizer.encode('good')]);
    const [l0, l1] = Array.from(logits.dataSync() as Float32Array);
    expect(await reward('the', 'good')).toBeCloseTo(
      Math.exp(l1) / (Math.exp(l0) + Math.exp(l1)),
      6,
    );
    await expect(async () =>
      classifierReward({ model, tokenizer: tinyTokenizer, positiveLabel: 2 })('a', 'b'),
    ).rejects.toThrow(/positiveLabel 2/);
  });
});
