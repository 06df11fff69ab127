import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, llmkit } from './testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-align-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = join(dir, 'text.txt');
const base = join(dir, 'base');
const pairs = join(dir, 'pairs.jsonl');
const prompts = join(dir, 'prompts.jsonl');
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');

beforeAll(() => {
  writeFileSync(
    text,
    'the day was good and the night was bad. we are happy, they are sad.\n'.repeat(30),
  );
  writeFileSync(
    pairs,
    jsonl([
      { prompt: 'the day was', chosen: ' good', rejected: ' bad' },
      { prompt: 'we are', chosen: ' happy', rejected: ' sad' },
      { prompt: 'the night', chosen: ' was good', rejected: ' was bad' },
    ]),
  );
  writeFileSync(prompts, jsonl([{ prompt: 'the day was' }, { prompt: 'we are' }]));
  const trained = llmkit('train', '--data', text, '--max-steps', '2', '--out', base, '--json');
  expect(trained.status, trained.stderr).toBe(0);
}, 300_000);

describe('llmkit align', () => {
  it('runs dpo, resumes it, and the output is a run folder llmkit sample reads', () => {
    const out = join(dir, 'dpo');
    const common = [
      'align',
      '--method',
      'dpo',
      '--checkpoint',
      base,
      '--data',
      pairs,
      '--out',
      out,
      '--json',
    ];
    const first = llmkit(...common, '--steps', '2', '--batch-size', '2', '--lr', '1e-3');
    expect(first.status, first.stderr).toBe(0);
    const summary = lastJson(first.stdout) as unknown as { stepsRun: number; firstLoss: number };
    expect(summary.stepsRun).toBe(2);
    expect(summary.firstLoss).toBeCloseTo(Math.log(2), 4); // policy = reference at step 1
    const more = llmkit(...common, '--steps', '3', '--batch-size', '2', '--lr', '1e-3', '--resume');
    expect(more.status, more.stderr).toBe(0);
    const steps = more.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l).step);
    expect(steps).toEqual([3]);
    const sampled = llmkit(
      'sample',
      '--checkpoint',
      out,
      '--prompt',
      'the',
      '--max-new-tokens',
      '5',
    );
    expect(sampled.status, sampled.stderr).toBe(0);
  }, 300_000);

  it('runs grpo and ppo with a word reward, and a reward model', () => {
    for (const method of ['grpo', 'ppo']) {
      const result = llmkit(
        'align',
        '--method',
        method,
        '--checkpoint',
        base,
        '--data',
        prompts,
        '--out',
        join(dir, method),
        '--steps',
        '2',
        '--batch-size',
        '2',
        '--max-new-tokens',
        '4',
        '--reward-words',
        'good,happy',
        '--json',
      );
      expect(result.status, result.stderr).toBe(0);
      expect(lastJson(result.stdout).stepsRun).toBe(2);
    }
    const rm = llmkit(
      'align',
      '--method',
      'reward-model',
      '--checkpoint',
      base,
      '--data',
      pairs,
      '--out',
      join(dir, 'rm'),
      '--steps',
      '2',
      '--json',
    );
    expect(rm.status, rm.stderr).toBe(0);
    const withModel = llmkit(
      'align',
      '--method',
      'grpo',
      '--checkpoint',
      base,
      '--data',
      prompts,
      '--out',
      join(dir, 'grpo-rm'),
      '--steps',
      '1',
      '--batch-size',
      '1',
      '--max-new-tokens',
      '4',
      '--reward-model',
      join(dir, 'rm'),
      '--json',
    );
    expect(withModel.status, withModel.stderr).toBe(0);
  }, 300_000);

  it('explains bad input in one line with status 2', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      `${JSON.stringify({ prompt: 'a', chosen: 'b', rejected: 'c' })}\n{"prompt": "a",\n`,
    );
    const same = join(dir, 'same.jsonl');
    writeFileSync(
      same,
      jsonl([
        { prompt: 'the', chosen: ' day', rejected: ' night' },
        { prompt: 'the', chosen: ' day', rejected: ' day' },
      ]),
    );
    const cases: [string[], RegExp][] = [
      [['--method', 'sft'], /--method sft: expected dpo, grpo, ppo, reward-model/],
      [
        ['--method', 'dpo', '--checkpoint', base, '--data', bad, '--out', join(dir, 'x')],
        /bad\.jsonl line 2: not valid JSON/,
      ],
      [
        ['--method', 'dpo', '--checkpoint', base, '--data', same, '--out', join(dir, 'x')],
        /pair 1: chosen equals rejected/,
      ],
      [
        ['--method', 'grpo', '--checkpoint', base, '--data', prompts, '--out', join(dir, 'x')],
        /needs a reward/,
      ],
    ];
    for (const [args, message] of cases) {
      const { status, stderr } = llmkit('align', ...args);
      expect(status, stderr).toBe(2);
      expect(stderr).toMatch(message);
    }
  }, 300_000);
});
