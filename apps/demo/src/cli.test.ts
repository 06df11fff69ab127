import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastJson, llmkit } from './testing/run-cli.js';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('llmkit CLI', () => {
  it('explains bad input in one line and exits with status 2', () => {
    const empty = join(dir, 'empty.txt');
    const short = join(dir, 'short.txt');
    writeFileSync(empty, '');
    writeFileSync(short, 'too short to hold one window of 64 characters');
    const cases: [string[], RegExp][] = [
      [['train', '--data', join(dir, 'missing.txt')], /--data .*missing\.txt: no such file/],
      [['train', '--data', empty], /the file is empty; expected text to train on/],
      [['train', '--data', short], /a window needs blockSize \+ 1 = 65/],
      [['train', '--preset', 'gpt-5'], /unknown preset "gpt-5"; known presets: shakespeare-char/],
      [['train', '--max-steps', 'ten'], /--max-steps ten: expected a positive integer/],
      [['train', '--max-steps', '2', '--max-step', '3'], /Unknown option '--max-step'/],
      [
        ['sample', '--checkpoint', dir, '--top-k', '2.5'],
        /--top-k must be an integer >= 0, got 2.5/,
      ],
      [['sample'], /--checkpoint DIR .* or --model DIR .* is required/],
      [['sample', '--checkpoint', dir], /no run\.json here/],
      [['nonsense'], /usage: llmkit <command>/],
    ];
    for (const [args, message] of cases) {
      const { status, stdout, stderr } = llmkit(...args);
      expect(status, args.join(' ')).toBe(2);
      expect(stdout + stderr).toMatch(message);
    }
  });

  it('prints help for every command', () => {
    for (const command of [
      'train',
      'sample',
      'finetune',
      'eval',
      'rag',
      'tokenize',
      'chat',
      'serve',
      'demo',
    ]) {
      const { status, stdout } = llmkit(command, '--help');
      expect(status).toBe(0);
      expect(stdout).toMatch(new RegExp(`usage: llmkit ${command}`));
    }
    expect(llmkit('finetune', '--help').stdout).toMatch(/--replay F /);
  });

  it('accepts the old flag names with a one-line notice', () => {
    const { status, stderr } = llmkit('train', '--max-iters', 'ten');
    expect(status).toBe(2);
    expect(stderr).toMatch(/^llmkit train: --max-iters is deprecated; use --max-steps\n/);
    expect(stderr).toMatch(/--max-steps ten: expected a positive integer/);
    const renamed = llmkit('rag', 'train-embedder', '--width=30', '--heads', '4', '--out', dir);
    expect(renamed.stderr).toMatch(/--width is deprecated; use --n-embd\n.*--heads is deprecated/);
  });

  it('trains, checkpoints, resumes and samples end to end', () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'To be, or not to be, that is the question.\n'.repeat(80));
    const out = join(dir, 'run');
    const first = llmkit('train', '--data', text, '--max-steps', '2', '--out', out, '--json');
    expect(first.status, first.stderr).toBe(0);
    const summary = lastJson(first.stdout);
    expect(summary).toMatchObject({ steps: 2 });
    expect(summary.val_loss).toBeGreaterThan(0);
    const resumed = llmkit(
      'train',
      '--data',
      text,
      '--max-steps',
      '3',
      '--out',
      out,
      '--json',
      '--resume',
    );
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(lastJson(resumed.stdout).steps).toBe(3);
    const sampled = llmkit(
      'sample',
      '--checkpoint',
      out,
      '--prompt',
      'To be',
      '--max-new-tokens',
      '20',
    );
    expect(sampled.status, sampled.stderr).toBe(0);
    expect(sampled.stdout.length).toBeGreaterThanOrEqual(20);
  });

  it('tokenizes with the OpenAI encodings', () => {
    const { status, stdout } = llmkit('tokenize', '--encoding', 'cl100k_base', 'hello world');
    expect(status).toBe(0);
    expect(stdout).toMatch(/2 tokens \(cl100k_base\)\n\s+15339 {2}"hello"\n\s+1917 {2}" world"/);
  });
});
