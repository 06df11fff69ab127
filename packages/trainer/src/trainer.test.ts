import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module, memory, type Tensor, zeros } from '@llmkit/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { listCheckpoints, loadCheckpoint } from './checkpoint.js';
import { IGNORE_INDEX, instructionExample, padBatch } from './data/examples.js';
import { TokenWindows } from './data/token-windows.js';
import { causalLanguageModelLoss, countTargets } from './losses.js';
import { TinyLanguageModel } from './testing/tiny-lm.js';
import { Trainer } from './trainer.js';

const root = mkdtempSync(join(tmpdir(), 'llmkit-trainer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// a small real corpus: the characters of a repeated sentence
const text = 'the quick brown fox jumps over the lazy dog. '.repeat(60);
const chars = [...new Set(text)].sort();
const tokens = [...text].map((c) => chars.indexOf(c));

function makeTrainer(
  dir: string | undefined,
  maxSteps: number,
  seed = 0,
  prepare?: (model: TinyLanguageModel) => void,
) {
  const model = new TinyLanguageModel(chars.length, 16, seed);
  prepare?.(model);
  const data = new TokenWindows(tokens, { blockSize: 16, batchSize: 4, seed: 7 });
  const trainer = new Trainer({
    model,
    loss: causalLanguageModelLoss,
    data,
    tokensIn: countTargets,
    config: {
      maxSteps,
      evalInterval: 5,
      evalBatches: 2,
      schedule: {
        kind: 'cosine',
        learningRate: 3e-2,
        warmupSteps: 2,
        decaySteps: 20,
        minLearningRate: 3e-3,
      },
      ...(dir ? { checkpoint: { dir, keepLast: 2 } } : {}),
    },
  });
  return { model, trainer };
}

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data<Float32Array>());
}

describe('Trainer', () => {
  it('changes every parameter and lowers the loss', async () => {
    const { model, trainer } = makeTrainer(undefined, 20);
    const before = await Promise.all(model.parameters().map(values));
    const initial = await trainer.evaluate(4);
    const result = await trainer.train();
    const after = await Promise.all(model.parameters().map(values));
    for (const [i, p] of after.entries()) expect(p).not.toEqual(before[i]);
    expect(result.validationLoss!).toBeLessThan(initial.loss * 0.7);
    expect(result.steps).toBe(20);
    expect(result.tokensPerSecond).toBeGreaterThan(0);
  });

  it('trains only parameters that require grad; frozen ones keep their values and get no optimizer state', async () => {
    const frozen: Tensor[] = [];
    const { model, trainer } = makeTrainer(undefined, 3, 0, (m) => {
      for (const p of m.parameters().filter((q) => q.rank >= 2))
        frozen.push(p.requiresGrad_(false));
    });
    const before = await Promise.all(frozen.map(values));
    await trainer.train();
    expect(await Promise.all(frozen.map(values))).toEqual(before);
    const owned = trainer.optimizer.paramGroups.flatMap((g) => g.params);
    expect(frozen.length).toBeGreaterThan(0);
    expect(owned.length).toBe(model.parameters().length - frozen.length);
    for (const p of frozen) expect(owned).not.toContain(p);
  });

  it('resumes from a checkpoint and continues the same loss curve exactly', async () => {
    const dirA = join(root, 'a');
    const dirB = join(root, 'b');
    const uninterrupted = await makeTrainer(dirA, 20).trainer.train();

    await makeTrainer(dirB, 10).trainer.train(); // stops (and checkpoints) at step 10
    const { trainer: resumed } = makeTrainer(dirB, 20, 99); // a different init, overwritten by resume
    expect(await resumed.resume()).toBe(true);
    expect(resumed.step).toBe(10);
    const continued = await resumed.train();
    expect(continued.history.slice(10)).toEqual(uninterrupted.history.slice(10));
    expect(continued.trainLoss).toBe(uninterrupted.trainLoss);
    expect(await listCheckpoints(dirB)).toEqual([15, 20]); // keepLast 2
  });

  it('stops on a non-finite loss before updating, keeping the last good checkpoint', async () => {
    const dir = join(root, 'nan');
    const { model, trainer } = makeTrainer(dir, 20);
    let calls = 0;
    const poisoned = new Trainer({
      model,
      data: new TokenWindows(tokens, { blockSize: 16, batchSize: 4 }),
      loss: (m: Module, batch) => {
        calls++;
        const loss = causalLanguageModelLoss(m, batch);
        return calls === 8 ? loss.mul(Number.NaN) : loss;
      },
      config: { ...trainer.config, evalBatches: 1 },
    });
    await expect(poisoned.train()).rejects.toThrow(
      /training loss is NaN at step \d+; stopped before updating the weights\. The last good checkpoint/,
    );
    const weights = await values(model.head.weight);
    expect(weights.every(Number.isFinite)).toBe(true);
    const state = await loadCheckpoint(dir, { model: new TinyLanguageModel(chars.length, 16) });
    expect(state.step).toBe(5);
  });

  it('stops early when validation loss stops improving', async () => {
    const model = new TinyLanguageModel(chars.length, 16);
    const trainer = new Trainer({
      model,
      loss: causalLanguageModelLoss,
      data: new TokenWindows(tokens, { blockSize: 16, batchSize: 4 }),
      // an improvement must be larger than any loss, so the second evaluation never counts as one
      config: {
        maxSteps: 100,
        evalInterval: 5,
        evalBatches: 1,
        earlyStopping: { patience: 1, minDelta: 100 },
      },
    });
    const result = await trainer.train();
    expect(result.stoppedEarly).toBe(true);
    expect(result.steps).toBe(10);
  });

  it('keeps memory flat over many steps', async () => {
    const { trainer } = makeTrainer(undefined, 200);
    await makeTrainer(undefined, 5).trainer.train();
    await trainer.train(); // warm the pool
    const { trainer: second } = makeTrainer(undefined, 200);
    const start = memory().buffers;
    await second.train();
    // after 200 steps: the same buffers plus the optimizer's moments (two per parameter)
    expect(memory().buffers).toBeLessThanOrEqual(start + 2 * 3);
  });
});

describe('instruction masking', () => {
  it('gives exactly zero gradient from prompt positions', async () => {
    // logits are a free table per position, so each position's gradient is visible on its row
    const T = 5;
    const V = 12;
    class TableModel extends Module {
      table = this.addParameter('table', zeros([T, V]));
      forward(ids: Tensor): Tensor {
        return this.table.reshape([1, T, V]).expand([ids.shape[0], T, V]);
      }
    }
    const model = new TableModel();
    const batch = padBatch([instructionExample([1, 2, 3], [4, 5, 6])], { padTokenId: 0 });
    expect(Array.from(batch.targets)).toEqual([IGNORE_INDEX, IGNORE_INDEX, 4, 5, 6]);
    causalLanguageModelLoss(model, batch).backward();
    const grad = await values(model.table.grad!);
    for (let t = 0; t < T; t++) {
      const row = grad.slice(t * V, (t + 1) * V);
      if (t < 2) expect(row.every((g) => g === 0)).toBe(true);
      else expect(row.some((g) => g !== 0)).toBe(true);
    }
  });
});

describe('checkpoints survive SIGKILL', () => {
  it('leaves a loadable checkpoint whenever the process dies', async () => {
    const child = fileURLToPath(new URL('../test-fixtures/checkpoint-child.mjs', import.meta.url));
    const dir = join(root, 'killed');
    for (let trial = 0; trial < 4; trial++) {
      await new Promise<void>((resolve, reject) => {
        const proc = spawn(process.execPath, [child, dir], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        // once a checkpoint exists, kill at a different moment each trial (often mid-write)
        proc.stdout.once('data', async () => {
          while ((await listCheckpoints(dir)).length === 0)
            await new Promise((r) => setTimeout(r, 10));
          setTimeout(() => proc.kill('SIGKILL'), 37 + trial * 61);
        });
        proc.on('exit', () => resolve());
        proc.on('error', reject);
      });
      const steps = await listCheckpoints(dir);
      expect(steps.length).toBeGreaterThan(0);
      const state = await loadCheckpoint(dir, { model: new TinyLanguageModel(64, 256) });
      expect(state.step).toBe(steps.at(-1));
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('checkpoint-')).length).toBeLessThanOrEqual(
      3,
    );
    // the next save removes temporary folders that killed writers left behind (one made here
    // for a process id that cannot exist, besides any the kills above left)
    mkdirSync(join(dir, '.checkpoint-0000001.4194305.mh3k2a.x7f2qz.tmp'));
    const survivor = new Trainer({
      model: new TinyLanguageModel(64, 256),
      loss: causalLanguageModelLoss,
      data: new TokenWindows(
        Array.from({ length: 5000 }, (_, i) => (i * 7) % 64),
        { blockSize: 16, batchSize: 4 },
      ),
      config: { maxSteps: 100_000, checkpoint: { dir, keepLast: 2 } },
    });
    await survivor.resume();
    await survivor.checkpoint();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.old'))).toEqual([]);
  });
});
