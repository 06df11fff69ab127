// LoRA policies with the real @llmkit/peft: the trainers take a PeftModel as the policy, use it
// with adapters disabled as the reference, and change only the adapter's parameters.
import { noGrad, tidy } from '@llmkit/core-tensor';
import { getPeftModel, type PeftModel } from '@llmkit/peft';
import type { GPT } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import type { PreferencePair } from './dpo/trainer.js';
import { trainDpo } from './dpo/trainer.js';
import { trainGrpo } from './grpo/trainer.js';
import { asCausalPolicy } from './policy.js';
import { trainPpo } from './ppo/trainer.js';
import { frozenCopy, tinyGpt, tinyTokenizer } from './testing/tiny.js';

const pairs: PreferencePair[] = [
  { prompt: 'the cat is', chosen: ' good!', rejected: ' bad.' },
  { prompt: 'my day was', chosen: ' great', rejected: ' awful' },
  { prompt: 'food is', chosen: ' nice', rejected: ' gross' },
  { prompt: 'we are', chosen: ' happy', rejected: ' sad' },
];
const prompts = ['the', 'a cat', 'we'];
const reward = (_prompt: string, completion: string) =>
  [...completion].filter((c) => c === 'e').length / completion.length;

/** A LoRA PeftModel (r 4 on every attention and MLP projection) of a seeded tiny GPT. */
function loraPolicy(seed: number): PeftModel<GPT> {
  return getPeftModel(tinyGpt(seed), {
    method: 'lora',
    r: 4,
    alpha: 8,
    targetModules: ['c_attn', 'c_proj', 'c_fc'],
  });
}

/** Every named parameter's values. */
function namedValues(model: PeftModel<GPT>): Map<string, number[]> {
  return new Map(
    model.namedParameters().map(([name, p]) => [name, Array.from(p.dataSync() as Float32Array)]),
  );
}

/** Names of the parameters whose values differ between two snapshots. */
function changed(before: Map<string, number[]>, after: Map<string, number[]>): string[] {
  return [...before.keys()].filter((name) =>
    before.get(name)!.some((x, i) => x !== after.get(name)![i]),
  );
}

/** Logits of a fixed input, flattened. */
function logitsOf(model: { forward: GPT['forward'] }): number[] {
  return tidy(() =>
    noGrad(() =>
      Array.from(model.forward([[1, 2, 3, 4, 5]], {}).logits.dataSync() as Float32Array),
    ),
  );
}

describe('LoRA policies (@llmkit/peft)', () => {
  it('trainDpo: the reference is the policy with adapters disabled, and only the adapter trains', async () => {
    const policy = loraPolicy(1);
    const baseLogits = logitsOf(tinyGpt(1));
    const before = namedValues(policy);
    const { history } = await trainDpo({
      policy,
      pairs,
      tokenizer: tinyTokenizer,
      steps: 12,
      batchSize: pairs.length,
      optimizer: { lr: 1e-2 },
    });
    // LoRA's B starts at zero: policy = reference at the first step
    expect(history[0].loss).toBeCloseTo(Math.log(2), 5);
    // below log 2: the reference is the base, not the adapted policy (that would keep log 2)
    expect(history.at(-1)!.loss).toBeLessThan(history[0].loss - 0.05);
    expect(history.at(-1)!['rewards/margins']).toBeGreaterThan(0.1);
    const moved = changed(before, namedValues(policy));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((name) => name.includes('lora_'))).toBe(true);
    expect(moved.length).toBe([...before.keys()].filter((n) => n.includes('lora_')).length);
    // the base model is untouched: with adapters disabled it is the original GPT
    expect(logitsOf(policy)).not.toEqual(baseLogits);
    policy.disableAdapters();
    expect(logitsOf(policy)).toEqual(baseLogits);
    policy.enableAdapters();
    expect(policy.activeAdapter).toBe('default');
  });

  it('trainGrpo: the adapters-disabled reference gives the run a frozen base copy gives, and only LoRA trains', async () => {
    const options = {
      prompts,
      reward,
      tokenizer: tinyTokenizer,
      sampling: { maxNewTokens: 4 },
      steps: 6,
      batchSize: 2,
      config: { groupSize: 8, klCoefficient: 0.04 },
      optimizer: { lr: 5e-2 },
    };
    const policy = loraPolicy(2);
    const baseLogits = logitsOf(tinyGpt(2));
    const before = namedValues(policy);
    const { history } = await trainGrpo({ ...options, policy });
    const withCopy = await trainGrpo({
      ...options,
      policy: loraPolicy(2),
      reference: frozenCopy(tinyGpt(2)),
    });
    expect(history[0].kl).toBeCloseTo(0, 6); // policy = reference before the first update
    expect(history.at(-1)!.kl).toBeGreaterThan(1e-4);
    for (const [i, m] of history.entries()) {
      expect(m.kl).toBeCloseTo(withCopy.history[i].kl, 5);
      expect(m.loss).toBeCloseTo(withCopy.history[i].loss, 5);
      expect(m.reward).toBe(withCopy.history[i].reward);
    }
    const moved = changed(before, namedValues(policy));
    expect(moved.length).toBe([...before.keys()].filter((n) => n.includes('lora_')).length);
    expect(moved.every((name) => name.includes('lora_'))).toBe(true);
    policy.disableAdapters();
    expect(logitsOf(policy)).toEqual(baseLogits);
    policy.enableAdapters();
  });

  it('trainPpo: the value head reads the adapted model, and only LoRA and the head train', async () => {
    const policy = loraPolicy(3);
    const baseLogits = logitsOf(tinyGpt(3));
    const before = namedValues(policy);
    const { model } = await trainPpo({
      policy,
      prompts,
      reward,
      tokenizer: tinyTokenizer,
      sampling: { maxNewTokens: 4 },
      steps: 4,
      batchSize: 8,
      config: { epochs: 2, minibatches: 2 },
      optimizer: { lr: 1e-2 },
    });
    expect(model.value_head.weight.shape).toEqual([1, 16]);
    expect(Array.from(model.value_head.weight.dataSync()).some((x) => x !== 0)).toBe(true);
    const moved = changed(before, namedValues(policy));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((name) => name.includes('lora_'))).toBe(true);
    policy.disableAdapters();
    expect(logitsOf(policy)).toEqual(baseLogits);
    policy.enableAdapters();
  });

  it('asCausalPolicy: a PeftModel takes its base sizes; prompt tuning and non-models are refused', () => {
    const peft = loraPolicy(4);
    const view = asCausalPolicy(peft, 'test');
    expect(view.config.blockSize).toBe(32);
    expect(view).not.toBe(peft);
    const gpt = tinyGpt(4);
    expect(asCausalPolicy(gpt, 'test')).toBe(gpt);
    const prompted = getPeftModel(tinyGpt(4), { method: 'prompt-tuning', numVirtualTokens: 2 });
    expect(() => asCausalPolicy(prompted as never, 'trainGrpo')).toThrow(
      /trainGrpo: a prompt-tuning adapter cannot sample/,
    );
    expect(() => asCausalPolicy({} as never, 'trainDpo')).toThrow(/trainDpo: the policy has no/);
  });
});
