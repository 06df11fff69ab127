import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, tensor } from '@llmkit/core-tensor';
import { loadCheckpoint } from '@llmkit/trainer';
import { GPT, load } from '@llmkit/transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, llmkit } from './testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-run-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = join(dir, 'text.txt');
const run = join(dir, 'run');
beforeAll(() => {
  writeFileSync(text, 'To be, or not to be, that is the question.\n'.repeat(80));
  const trained = llmkit('train', '--data', text, '--max-steps', '3', '--out', run, '--json');
  expect(trained.status, trained.stderr).toBe(0);
  expect(lastJson(trained.stdout)).toMatchObject({ steps: 3 });
});

/** Logits `[1, 42, V]` of `model` for the text's first line, as ids of the run's tokenizer. */
async function logitsOf(model: GPT, chars: string[]): Promise<Float32Array> {
  const ids = [...'To be, or not to be, that is the question.'].map((c) => chars.indexOf(c));
  const input = tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' });
  const { logits } = noGrad(() => model.forward(input));
  return (await logits.data<Float32Array>()).slice();
}

describe('the run folder of llmkit train', () => {
  it('opens with transformer.load, with the weights of the last checkpoint', async () => {
    const runFile = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
    expect(runFile).toMatchObject({ format: 'llmkit-run', version: 2, task: 'language-model' });
    const opened = await load(run);
    expect(opened).toBeInstanceOf(GPT);
    const model = opened as GPT;
    model.eval();
    expect(model.config).toMatchObject(runFile.model);
    // the trainer's way back: a GPT from run.json's config with the newest checkpoint loaded
    const reloaded = new GPT(runFile.model);
    const { step } = await loadCheckpoint(run, { model: reloaded });
    reloaded.eval();
    expect(step).toBe(3);
    const fromFolder = await logitsOf(model, runFile.tokenizer.chars);
    const fromCheckpoint = await logitsOf(reloaded, runFile.tokenizer.chars);
    expect(fromFolder.length).toBe(42 * runFile.model.vocabSize);
    expect(fromFolder).toEqual(fromCheckpoint); // the same weights: equal to the last bit
  });

  it('refuses to start a new run over checkpoints, and resumes only the same run', () => {
    const again = llmkit('train', '--data', text, '--max-steps', '2', '--out', run);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(
      /holds checkpoints of an earlier run \(newest step 3\); pass --resume/,
    );
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'Another text with other characters: 0123456789.\n'.repeat(80));
    const mismatch = llmkit('train', '--data', other, '--max-steps', '4', '--out', run, '--resume');
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toMatch(/--resume: .* holds a run with another model/);
  });

  it('samples and evaluates from the model folder when the checkpoints are gone', () => {
    const copy = join(dir, 'model-only');
    llmkit('train', '--data', text, '--max-steps', '2', '--out', copy, '--json');
    rmSync(join(copy, 'checkpoint-0000002'), { recursive: true });
    const evaluated = llmkit('eval', '--checkpoint', copy, '--json');
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(lastJson(evaluated.stdout)).toMatchObject({ step: null });
    expect(lastJson(evaluated.stdout).loss).toBeGreaterThan(0);
    const sampled = llmkit('sample', '--checkpoint', copy, '--max-new-tokens', '5', '--greedy');
    expect(sampled.status, sampled.stderr).toBe(0);
  });

  it('reads a version 1 folder (run.json without format, checkpoints only) as before', () => {
    // the text covers the plain chat template's characters, for the instruction tuning below
    const chat = join(dir, 'chat.txt');
    writeFileSync(chat, 'User: to be?\nAssistant: not to be.\n'.repeat(60));
    const old = join(dir, 'old');
    llmkit('train', '--data', chat, '--max-steps', '2', '--out', old, '--json');
    const { format, version, task, ...v1 } = JSON.parse(
      readFileSync(join(old, 'run.json'), 'utf8'),
    );
    expect([format, version, task]).toEqual(['llmkit-run', 2, 'language-model']);
    writeFileSync(join(old, 'run.json'), JSON.stringify(v1));
    rmSync(join(old, 'config.json'));
    rmSync(join(old, 'model.safetensors'));
    const evaluated = llmkit('eval', '--checkpoint', old, '--json');
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(lastJson(evaluated.stdout)).toMatchObject({ step: 2 });
    const sampled = llmkit(
      'sample',
      '--checkpoint',
      old,
      '--prompt',
      'User:',
      '--max-new-tokens',
      '5',
    );
    expect(sampled.status, sampled.stderr).toBe(0);
    const records = join(dir, 'records.jsonl');
    writeFileSync(records, '{"prompt": "to be?", "response": "not to be."}\n'.repeat(4));
    const tuned = join(dir, 'tuned-from-old');
    const finetuned = llmkit(
      ...['finetune', '--task', 'instruction', '--checkpoint', old, '--data', records],
      ...['--out', tuned, '--max-steps', '2', '--batch-size', '2', '--json'],
    );
    expect(finetuned.status, finetuned.stderr).toBe(0);
    expect(existsSync(join(tuned, 'config.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(tuned, 'run.json'), 'utf8'))).toMatchObject({
      version: 2,
      finetune: { task: 'instruction', from: old, template: 'plain', replay: 0 },
    });
  });

  it('explains a damaged or unknown run.json in one line', () => {
    const cases: [string, RegExp][] = [
      ['{ not json', /run\.json: not JSON/],
      [
        '{"format": "llmkit-run", "version": 9}',
        /version 9; this llmkit reads run folders up to version 2/,
      ],
      [
        '{"model": {"blockSize": 0}}',
        /run\.json: model\.vocabSize is missing; expected a positive integer/,
      ],
    ];
    for (const [content, message] of cases) {
      const bad = mkdtempSync(join(dir, 'bad-'));
      writeFileSync(join(bad, 'run.json'), content);
      const { status, stderr } = llmkit('sample', '--checkpoint', bad);
      expect(status, content).toBe(2);
      expect(stderr, content).toMatch(message);
    }
  });
});
