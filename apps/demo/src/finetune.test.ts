import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderForSequenceClassification, load } from '@llmkit/transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJson, llmkit } from './testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'llmkit-finetune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = join(dir, 'text.txt');
const base = join(dir, 'base');
const records = join(dir, 'records.jsonl');
beforeAll(() => {
  // the base model's characters must cover the chat template ("User: ...\nAssistant: ...")
  writeFileSync(
    text,
    'User: what is the answer?\nAssistant: the answer is yes, it is.\n'.repeat(40),
  );
  writeFileSync(
    records,
    [
      { prompt: 'what is the answer?', response: 'yes.' },
      { prompt: 'is it?', response: 'it is.' },
      { prompt: 'what is it?', response: 'the answer.' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  const trained = llmkit('train', '--data', text, '--max-steps', '2', '--out', base, '--json');
  expect(trained.status, trained.stderr).toBe(0);
});

describe('llmkit finetune and eval', () => {
  it('print help', () => {
    for (const command of ['finetune', 'eval']) {
      const { status, stdout } = llmkit(command, '--help');
      expect(status).toBe(0);
      expect(stdout).toMatch(new RegExp(`usage: llmkit ${command}`));
    }
    expect(llmkit('--help').stdout).toMatch(/finetune .*\n\s+eval /);
  });

  it('explain bad input in one line with status 2', () => {
    const cases: [string[], RegExp][] = [
      [
        ['finetune', '--data', records],
        /--task \(missing\): expected instruction or classification/,
      ],
      [['finetune', '--task', 'rlhf'], /--task rlhf: expected instruction or classification/],
      [['finetune', '--task', 'instruction', '--data', records], /needs --checkpoint DIR/],
      [
        ['finetune', '--task', 'classification', '--data', join(dir, 'none.tsv')],
        /--data .*none\.tsv: no such file/,
      ],
      [
        ['finetune', '--task', 'classification', '--data', text],
        /line 1: expected "sentence<TAB>label"/,
      ],
      [
        [
          'finetune',
          '--task',
          'instruction',
          '--checkpoint',
          base,
          '--data',
          records,
          '--template',
          'x',
        ],
        /--template x: expected plain or chatml/,
      ],
      [
        ['finetune', '--task', 'instruction', '--checkpoint', base, '--data', dir],
        /a folder; expected a JSON lines file/,
      ],
      [['eval'], /--checkpoint DIR is required/],
      [['eval', '--checkpoint', dir], /no run\.json here/],
      [['eval', '--checkpoint', base, '--data', join(dir, 'none.txt')], /no such file/],
    ];
    for (const [args, message] of cases) {
      const { status, stdout, stderr } = llmkit(...args);
      expect(status, args.join(' ')).toBe(2);
      expect(stdout + stderr, args.join(' ')).toMatch(message);
    }
    const unknown = join(dir, 'unknown.txt');
    writeFileSync(unknown, 'Zebra!');
    const { status, stderr } = llmkit('eval', '--checkpoint', base, '--data', unknown);
    expect(status).toBe(2);
    expect(stderr).toMatch(/character "Z" at offset 0 is not in the vocabulary/);
  });

  it('evaluates a run: every held-out token once, perplexity = exp(loss)', () => {
    const out = llmkit('eval', '--checkpoint', base, '--json');
    expect(out.status, out.stderr).toBe(0);
    const result = lastJson(out.stdout);
    // the validation split is the last 10% of the text's characters; all but the first are predicted
    const characters =
      'User: what is the answer?\nAssistant: the answer is yes, it is.\n'.length * 40;
    expect(result.tokens).toBe(characters - Math.floor(characters * 0.9) - 1);
    expect(result.step).toBe(2);
    expect(result.perplexity).toBeCloseTo(Math.exp(result.loss), 2);
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'the answer is: it is what it is.\n'.repeat(5));
    const onFile = lastJson(
      llmkit('eval', '--checkpoint', base, '--data', other, '--json', '--max-tokens', '100').stdout,
    );
    expect(onFile.tokens).toBe(99);
    expect(onFile.windows).toBe(2);
  });

  it('fine-tunes on instructions into a run that eval and sample accept', () => {
    const out = join(dir, 'tuned');
    const tuned = llmkit(
      'finetune',
      '--task',
      'instruction',
      '--checkpoint',
      base,
      '--data',
      records,
      '--out',
      out,
      '--max-steps',
      '3',
      '--batch-size',
      '2',
      '--json',
    );
    expect(tuned.status, tuned.stderr).toBe(0);
    const summary = lastJson(tuned.stdout);
    expect(summary).toMatchObject({ task: 'instruction', steps: 3, replay: 0 });
    expect(summary.base_val_loss).toBeGreaterThan(0);
    expect(summary.val_loss).toBeGreaterThan(0);
    const evaluated = llmkit('eval', '--checkpoint', out, '--json');
    expect(evaluated.status, evaluated.stderr).toBe(0);
    expect(lastJson(evaluated.stdout)).toMatchObject({ step: 3, loss: summary.base_val_loss });
    const replayed = llmkit(
      'finetune',
      '--task',
      'instruction',
      '--checkpoint',
      base,
      '--data',
      records,
      '--out',
      join(dir, 'replayed'),
      '--max-steps',
      '2',
      '--batch-size',
      '2',
      '--replay',
      '0.5',
      '--json',
    );
    expect(replayed.status, replayed.stderr).toBe(0);
    expect(lastJson(replayed.stdout)).toMatchObject({ steps: 2, replay: 0.5 });
    expect(llmkit('finetune', '--task', 'instruction', '--replay', '1').stderr).toMatch(
      /--replay 1: expected a fraction in \[0, 1\)/,
    );
    const sampled = llmkit(
      'sample',
      '--checkpoint',
      out,
      '--prompt',
      'User: is it?\nAssistant:',
      '--max-new-tokens',
      '5',
    );
    expect(sampled.status, sampled.stderr).toBe(0);
  });

  it('trains a classifier and reports held-out accuracy', async () => {
    const tsv = join(dir, 'labels.tsv');
    const lines = Array.from({ length: 40 }, (_, i) =>
      i % 2 ? `good great fine ${i}\t1` : `bad awful poor ${i}\t0`,
    );
    writeFileSync(tsv, lines.join('\n'));
    const out = join(dir, 'classifier');
    const run = llmkit(
      'finetune',
      '--task',
      'classification',
      '--data',
      tsv,
      '--out',
      out,
      '--max-steps',
      '3',
      '--batch-size',
      '8',
      '--validation-fraction',
      '0.25',
      '--json',
    );
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run.stdout);
    expect(summary).toMatchObject({ task: 'classification', steps: 3, val_examples: 10 });
    expect(summary.val_accuracy).toBeGreaterThanOrEqual(0);
    expect(summary.val_accuracy).toBeLessThanOrEqual(1);
    const evaluated = llmkit('eval', '--checkpoint', out);
    expect(evaluated.status).toBe(2);
    expect(evaluated.stderr).toMatch(/a classification run/);
    // the final classifier beside the run's state, as transformer's load opens it
    const classifier = await load(out);
    expect(classifier).toBeInstanceOf(EncoderForSequenceClassification);
    expect((classifier as EncoderForSequenceClassification).numLabels).toBe(2);
  });
});
