import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCheckpoints } from '@llmkit/trainer';
import { afterAll, describe, expect, it } from 'vitest';
import type { GPT } from '@llmkit/transformer';
import { logSoftmax, noGrad } from '@llmkit/core-tensor';
import { frozenCopy, snapshot, tinyGpt, tinyTokenizer } from '../testing/tiny.js';
import { trainGrpo } from './trainer.js';

const prompts = ['the', 'a cat', 'we'];
// reward: the share of completion characters that are 'e'
const reward = (_prompt: string, completion: string) =>
  [...completion].filter((c) => c === 'e').length / completion.length;
const E = tinyTokenizer.encode('e')[0];

/** Mean probability of 'e' as the next token after each prompt. */
function probabilityOfE(model: GPT): number {
  return noGrad(() => {
    let total = 0;
    for (const prompt of prompts) {
      const { logits } = model.forward([tinyTokenizer.encode(prompt)], {});
      const p = logSoftmax(logits, -1).exp().dataSync() as Float32Array;
      const V = logits.shape[2];
      total += p[(logits.shape[1] - 1) * V + E];
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
  batchSize: 2,
  optimizer: { lr: 2e-2 },
};

describe('trainGrpo', () => {
  it('raises the reward and the probability of the rewarded token', async () => {
    const policy = tinyGpt(1);
    const before = probabilityOfE(policy);
    const { history } = await trainGrpo({
      ...base,
      policy,
      steps: 15,
      config: { groupSize: 8, klCoefficient: 0 },
    });
    const after = probabilityOfE(policy);
    expect(after).toBeGreaterThan(before * 3);
    const early = history.slice(0, 3).reduce((a, m) => a + m.reward, 0) / 3;
    const late = history.slice(-3).reduce((a, m) => a + m.reward, 0) / 3;
    expect(late).toBeGreaterThan(early + 0.2);
  }, 60_000);

  it('reports a non-negative k3 KL to a frozen reference and needs one when the KL is on', async () => {
    const policy = tinyGpt(2);
    await expect(
      trainGrpo({ ...base, policy, steps: 1, config: { groupSize: 4 } }),
    ).rejects.toThrow(/needs a reference model/);
    const reference = frozenCopy(policy);
    const { history } = await trainGrpo({
      ...base,
      policy,
      reference,
      steps: 4,
      iterations: 2,
      config: { groupSize: 4, klCoefficient: 0.1 },
    });
    expect(history[0].kl).toBeGreaterThanOrEqual(0);
    expect(history.at(-1)!.kl).toBeGreaterThan(0); // the policy moved away
  }, 60_000);

  it('resuming takes the same next steps as not stopping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpo-'));
    const dirOnce = mkdtempSync(join(tmpdir(), 'grpo-'));
    dirs.push(dir, dirOnce);
    const options = { ...base, config: { groupSize: 4, klCoefficient: 0 } };
    const straight = tinyGpt(3);
    const full = await trainGrpo({
      ...options,
      policy: straight,
      steps: 4,
      checkpoint: { dir: dirOnce },
    });
    await trainGrpo({ ...options, policy: tinyGpt(3), steps: 2, checkpoint: { dir } });
    const resumed = tinyGpt(42);
    const rest = await trainGrpo({
      ...options,
      policy: resumed,
      steps: 4,
      checkpoint: { dir, resume: true },
    });
    expect(rest.history.map((m) => [m.step, m.loss, m.reward])).toEqual(
      full.history.slice(2).map((m) => [m.step, m.loss, m.reward]),
    );
    expect(snapshot(resumed)).toEqual(snapshot(straight));
  }, 60_000);

  it('a reward of NaN stops the run before the update and the last checkpoint stays good', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpo-'));
    dirs.push(dir);
    const policy = tinyGpt(4);
    let calls = 0;
    const flaky = (prompt: string, completion: string) =>
      ++calls > 8 * 2 ? Number.NaN : reward(prompt, completion);
    const options = { ...base, reward: flaky, config: { groupSize: 4, klCoefficient: 0 } };
    await expect(
      trainGrpo({ ...options, policy, steps: 3, checkpoint: { dir, every: 1 } }),
    ).rejects.toThrow(/reward function returned NaN .*stopped before this step's update/);
    expect(await listCheckpoints(dir)).toEqual([1, 2]);
    const afterTwo = tinyGpt(5);
    await trainGrpo({
      ...options,
      reward,
      policy: afterTwo,
      steps: 2,
      checkpoint: { dir, resume: true },
    });
    expect(snapshot(afterTwo)).toEqual(snapshot(policy)); // step 3 made no update
  }, 60_000);
});
