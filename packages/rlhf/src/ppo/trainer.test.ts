import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, logSoftmax, noGrad, tidy } from '@llmkit/core-tensor';
import type { GPT } from '@llmkit/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { frozenCopy, snapshot, tinyGpt, tinyTokenizer } from '../testing/tiny.js';
import { PolicyWithValueHead, trainPpo } from './trainer.js';

const prompts = ['the', 'a cat', 'we'];
const reward = (_prompt: string, completion: string) =>
  [...completion].filter((c) => c === 'e').length / completion.length;
const E = tinyTokenizer.encode('e')[0];

function probabilityOfE(model: GPT): number {
  return noGrad(() => {
    let total = 0;
    for (const prompt of prompts) {
      const { logits } = model.forward([tinyTokenizer.encode(prompt)], {});
      const p = logSoftmax(logits, -1).exp().dataSync() as Float32Array;
      total += p[(logits.shape[1] - 1) * logits.shape[2] + E];
    }
    return total / prompts.length;
  });
}
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const base = {
  prompts,
  reward,
  tokenizer: tinyTokenizer,
  sampling: { maxNewTokens: 4 },
  batchSize: 8,
  optimizer: { lr: 1e-2 },
};

describe('PolicyWithValueHead', () => {
  it('reads the last hidden state: value[b, t] = hiddenState[b, t] . w + bias, as Linear(nEmbd, 1)', () => {
    const policy = tinyGpt(7);
    const model = new PolicyWithValueHead(policy);
    expect(model.value_head.weight.shape).toEqual([1, policy.config.nEmbd]);
    init.normal(model.value_head.weight, 0, 1);
    init.normal(model.value_head.bias!, 0, 1);
    const ids = [
      [1, 2, 3, 4],
      [5, 6, 0, 0],
    ];
    const mask = [
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ];
    tidy(() =>
      noGrad(() => {
        const { logits, values } = model.forwardWithValues(ids, mask);
        const reference = policy.forward(ids, { attentionMask: mask, returnHiddenState: true });
        expect(Array.from(logits.dataSync())).toEqual(Array.from(reference.logits.dataSync()));
        const h = reference.hiddenState!.dataSync() as Float32Array;
        const w = model.value_head.weight.dataSync() as Float32Array;
        const b = (model.value_head.bias!.dataSync() as Float32Array)[0];
        const C = policy.config.nEmbd;
        const v = values.dataSync() as Float32Array;
        expect(values.shape).toEqual([2, 4]);
        for (let i = 0; i < 8; i++) {
          let expected = b;
          for (let c = 0; c < C; c++) expected += h[i * C + c] * w[c];
          expect(v[i]).toBeCloseTo(expected, 4);
        }
      }),
    );
  });

  it('rejects a policy without a hidden width or a hidden state, saying what it needs', () => {
    const policy = tinyGpt(8);
    const narrowed = Object.assign(Object.create(policy), {
      config: { blockSize: 8, vocabSize: 30 },
    });
    expect(() => new PolicyWithValueHead(narrowed)).toThrow(/config\.nEmbd is undefined/);
    const noHidden = Object.assign(tinyGpt(8), {
      forward: (ids: number[][]) => ({ logits: policy.forward(ids).logits }),
    });
    expect(() => new PolicyWithValueHead(noHidden).forwardWithValues([[1, 2]], [[1, 1]])).toThrow(
      /returned no hiddenState/,
    );
  });
});

describe('trainPpo', () => {
  it('raises the reward, trains the value head, and a large KL coefficient keeps the policy near the reference', async () => {
    const policy = tinyGpt(1);
    const reference = frozenCopy(policy);
    const before = probabilityOfE(policy);
    const free = await trainPpo({
      ...base,
      policy,
      reference,
      steps: 12,
      config: { initKlCoefficient: 0.01, adaptiveKl: false, epochs: 2, minibatches: 2 },
    });
    expect(probabilityOfE(policy)).toBeGreaterThan(before * 3);
    expect(snapshot(free.model.value_head).some((x) => x !== 0)).toBe(true);
    const late = free.history.slice(-3).reduce((a, m) => a + m.reward, 0) / 3;
    const early = free.history.slice(0, 3).reduce((a, m) => a + m.reward, 0) / 3;
    expect(late).toBeGreaterThan(early + 0.2);

    const held = tinyGpt(1);
    const tight = await trainPpo({
      ...base,
      policy: held,
      reference: frozenCopy(held),
      steps: 12,
      config: { initKlCoefficient: 5, adaptiveKl: false, epochs: 2, minibatches: 2 },
    });
    expect(probabilityOfE(held)).toBeLessThan(probabilityOfE(policy) / 2);
    expect(Math.abs(tight.history.at(-1)!.kl)).toBeLessThan(Math.abs(free.history.at(-1)!.kl));
  }, 120_000);

  it('the adaptive controller moves the coefficient and resuming takes the same next steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ppo-'));
    const dirOnce = mkdtempSync(join(tmpdir(), 'ppo-'));
    dirs.push(dir, dirOnce);
    const options = { ...base, batchSize: 4, config: { epochs: 2, targetKl: 0.01, klHorizon: 10 } };
    const straight = tinyGpt(3);
    const full = await trainPpo({
      ...options,
      policy: straight,
      reference: frozenCopy(straight),
      steps: 4,
      checkpoint: { dir: dirOnce },
    });
    expect(full.klCoefficient).not.toBe(0.2);
    const first = tinyGpt(3);
    await trainPpo({
      ...options,
      policy: first,
      reference: frozenCopy(first),
      steps: 2,
      checkpoint: { dir },
    });
    const resumed = tinyGpt(42);
    const rest = await trainPpo({
      ...options,
      policy: resumed,
      reference: frozenCopy(tinyGpt(3)),
      steps: 4,
      checkpoint: { dir, resume: true },
    });
    expect(rest.history.map((m) => [m.step, m.loss, m.klCoefficient])).toEqual(
      full.history.slice(2).map((m) => [m.step, m.loss, m.klCoefficient]),
    );
    expect(snapshot(rest.model)).toEqual(snapshot(full.model));
  }, 120_000);

  it('a NaN reward stops the run before any update', async () => {
    const policy = tinyGpt(4);
    const before = snapshot(policy);
    await expect(
      trainPpo({
        ...base,
        policy,
        reference: frozenCopy(policy),
        reward: () => Number.NaN,
        steps: 2,
      }),
    ).rejects.toThrow(/reward function returned NaN/);
    expect(snapshot(policy)).toEqual(before);
    await expect(trainPpo({ ...base, policy, steps: 1 })).rejects.toThrow(
      /needs a reference model/,
    );
  });
});
