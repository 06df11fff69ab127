import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { frozenCopy, snapshot, tinyGpt, tinyTokenizer } from '../testing/tiny.js';
import { type PreferencePair, trainDpo } from './trainer.js';

const pairs: PreferencePair[] = [
  { prompt: 'the cat is', chosen: ' good!', rejected: ' bad.' },
  { prompt: 'my day was', chosen: ' great', rejected: ' awful' },
  { prompt: 'food is', chosen: ' nice', rejected: ' gross' },
  { prompt: 'we are', chosen: ' happy', rejected: ' sad' },
];
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('trainDpo', () => {
  it('starts at log 2, lowers the loss on a fixed batch, changes the parameters', async () => {
    const policy = tinyGpt(1);
    const before = snapshot(policy);
    const { history } = await trainDpo({
      policy,
      pairs,
      tokenizer: tinyTokenizer,
      steps: 12,
      batchSize: pairs.length,
      optimizer: { lr: 1e-2 },
    });
    expect(history[0].loss).toBeCloseTo(Math.log(2), 5); // policy = reference at step 1
    expect(history[0]['rewards/margins']).toBeCloseTo(0, 5);
    expect(history.at(-1)!.loss).toBeLessThan(history[0].loss - 0.1);
    expect(history.at(-1)!['rewards/accuracies']).toBe(1);
    expect(history.at(-1)!['rewards/chosen']).toBeGreaterThan(history.at(-1)!['rewards/rejected']);
    const after = snapshot(policy);
    expect(after.some((x, i) => x !== before[i])).toBe(true);
  });

  it('a frozen reference copy gives the same run as precomputed reference log-probs', async () => {
    const a = tinyGpt(2);
    const reference = frozenCopy(a);
    const b = tinyGpt(2);
    const options = {
      pairs,
      tokenizer: tinyTokenizer,
      steps: 3,
      batchSize: 2,
      optimizer: { lr: 1e-2 },
    };
    const withCopy = await trainDpo({ ...options, policy: a, reference });
    const precomputed = await trainDpo({ ...options, policy: b });
    for (let i = 0; i < 3; i++)
      expect(withCopy.history[i].loss).toBeCloseTo(precomputed.history[i].loss, 5);
    expect(snapshot(reference)).toEqual(snapshot(frozenCopy(tinyGpt(2)))); // never updated
  });

  it('uses the policy with adapters disabled as the reference when it has adapters', async () => {
    const policy = tinyGpt(3);
    const calls: string[] = [];
    Object.assign(policy, {
      disableAdapters: () => calls.push('disable'),
      enableAdapters: () => calls.push('enable'),
    });
    await trainDpo({ policy, pairs, tokenizer: tinyTokenizer, steps: 2, batchSize: 2 });
    expect(calls).toEqual(['disable', 'enable', 'disable', 'enable']);
  });

  it('resuming from a checkpoint takes the same next steps as not stopping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dpo-'));
    const dirOnce = mkdtempSync(join(tmpdir(), 'dpo-'));
    dirs.push(dir, dirOnce);
    const options = { pairs, tokenizer: tinyTokenizer, batchSize: 2, optimizer: { lr: 1e-2 } };
    const straight = tinyGpt(4);
    const full = await trainDpo({
      ...options,
      policy: straight,
      steps: 4,
      checkpoint: { dir: dirOnce },
    });
    const first = tinyGpt(4);
    await trainDpo({ ...options, policy: first, steps: 2, checkpoint: { dir } });
    const resumedPolicy = tinyGpt(99); // other weights: the checkpoint must replace them
    const rest = await trainDpo({
      ...options,
      policy: resumedPolicy,
      steps: 4,
      checkpoint: { dir, resume: true },
    });
    expect(rest.history.map((m) => m.step)).toEqual([3, 4]);
    expect(rest.history.map((m) => m.loss)).toEqual(full.history.slice(2).map((m) => m.loss));
    expect(snapshot(resumedPolicy)).toEqual(snapshot(straight));
  });

  it('rejects a pair whose chosen equals rejected, an empty completion, and a too long pair, naming the pair', async () => {
    const policy = tinyGpt(5, 16);
    const before = snapshot(policy);
    const run = (bad: PreferencePair) =>
      trainDpo({ policy, pairs: [pairs[0], bad], tokenizer: tinyTokenizer, steps: 1 });
    await expect(run({ prompt: 'a', chosen: ' b', rejected: ' b' })).rejects.toThrow(
      /pair 1: chosen equals rejected/,
    );
    await expect(run({ prompt: 'a', chosen: '', rejected: ' b' })).rejects.toThrow(
      /pair 1: the chosen completion is empty/,
    );
    await expect(
      run({ prompt: 'a very long prompt indeed', chosen: ' b', rejected: ' c' }),
    ).rejects.toThrow(/pair 1 \(chosen\).*blockSize 16/);
    expect(snapshot(policy)).toEqual(before);
  });

  it('stops before an update when aborted', async () => {
    const policy = tinyGpt(6);
    const controller = new AbortController();
    controller.abort();
    await expect(
      trainDpo({ policy, pairs, tokenizer: tinyTokenizer, steps: 1, signal: controller.signal }),
    ).rejects.toThrow(/aborted/);
  });
});
