import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { noGrad, tidy } from '@llmkit/core-tensor';
import { causalLanguageModelLoss, type LanguageModelBatch } from '@llmkit/trainer';
import type { GPT } from '@llmkit/transformer';
import { readBundledText } from '../bundled-text.js';
import { CliError } from '../cli-error.js';
import { chooseBackend } from './backend.js';
import { loadRun } from './sample.js';

export const EVAL_HELP = `usage: llmkit eval --checkpoint DIR [--data FILE] [--max-tokens N] [--batch-size N]
                  [--backend NAME] [--json]

Measures validation loss and perplexity of a run folder written by \`llmkit train\` (or finetune).
  --checkpoint DIR   the run folder (its newest checkpoint is evaluated)
  --data FILE        text to evaluate, all of it (default: the last 10% of the text the run was
                     trained on: its validation split)
  --max-tokens N     evaluate at most the first N tokens of that text
  --batch-size N     windows per forward pass (default 16)
  --json             print one JSON object: loss, perplexity, tokens, windows, step
Every token is predicted once, in consecutive windows of the model's block size.`;

/** The text a run was trained on, as recorded in its run.json. */
export function trainingText(dir: string): string {
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { data?: string };
  if (run.data === "the repository's Markdown") return readBundledText();
  if (!run.data || !existsSync(run.data))
    throw new CliError(
      `--checkpoint ${dir}: its training text ${JSON.stringify(run.data)} is not here; pass --data FILE`,
    );
  return readFileSync(run.data, 'utf8');
}

/**
 * Mean next-token loss over `tokens`, cut into consecutive windows of `blockSize` inputs (the last
 * one shorter), so every token after the first is predicted exactly once.
 */
export async function evaluateTokens(
  model: GPT,
  tokens: readonly number[],
  blockSize: number,
  batchSize: number,
): Promise<{ loss: number; tokens: number; windows: number }> {
  const windows: number[][] = [];
  for (let start = 0; start + 1 < tokens.length; start += blockSize)
    windows.push(tokens.slice(start, start + blockSize + 1) as number[]);
  let total = 0;
  let count = 0;
  // full windows in batches; the shorter last window on its own
  const groups: number[][][] = [];
  const full = windows.filter((w) => w.length === blockSize + 1);
  for (let i = 0; i < full.length; i += batchSize) groups.push(full.slice(i, i + batchSize));
  const last = windows.at(-1);
  if (last && last.length < blockSize + 1) groups.push([last]);
  for (const group of groups) {
    const T = group[0].length - 1;
    const batch: LanguageModelBatch = {
      inputs: Int32Array.from(group.flatMap((w) => w.slice(0, T))),
      targets: Int32Array.from(group.flatMap((w) => w.slice(1))),
      batchSize: group.length,
      blockSize: T,
    };
    const value = noGrad(() => tidy(() => causalLanguageModelLoss(model, batch)));
    total += (await value.data())[0] * group.length * T;
    value.dispose();
    count += group.length * T;
  }
  return { loss: total / count, tokens: count, windows: windows.length };
}

/** `llmkit eval`: returns what it printed. */
export async function evaluate(args: string[]): Promise<Record<string, number> | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      'max-tokens': { type: 'string' },
      'batch-size': { type: 'string', default: '16' },
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(EVAL_HELP);
    return undefined;
  }
  if (!values.checkpoint)
    throw new CliError('--checkpoint DIR is required (the --out folder of llmkit train)');
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new CliError(`--batch-size ${values['batch-size']}: expected a positive integer`);
  const maxTokens = values['max-tokens'] === undefined ? Infinity : Number(values['max-tokens']);
  if (!(maxTokens === Infinity || (Number.isInteger(maxTokens) && maxTokens >= 2)))
    throw new CliError(`--max-tokens ${values['max-tokens']}: expected an integer >= 2`);
  if (values.data !== undefined) {
    if (!existsSync(values.data)) throw new CliError(`--data ${values.data}: no such file`);
    if (!statSync(values.data).isFile()) throw new CliError(`--data ${values.data}: not a file`);
  }
  await chooseBackend(values.backend);
  const dir = resolve(values.checkpoint);
  const runFile = join(dir, 'run.json');
  if (existsSync(runFile) && JSON.parse(readFileSync(runFile, 'utf8')).task === 'classification')
    throw new CliError(
      `--checkpoint ${dir}: a classification run; llmkit eval measures language models (its accuracy is in the finetune summary)`,
    );
  const { model, tokenizer, blockSize, step } = await loadRun(dir);
  let text: string;
  let source: string;
  if (values.data === undefined) {
    // TokenWindows' split: the first floor(0.9 * n) tokens train, the rest validate (1 char = 1 token)
    const characters = [...trainingText(dir)];
    text = characters.slice(Math.floor(characters.length * 0.9)).join('');
    source = 'the validation split of its training text';
  } else {
    text = readFileSync(values.data, 'utf8');
    source = values.data;
  }
  let tokens: number[];
  try {
    tokens = tokenizer.encode(text);
  } catch (error) {
    throw new CliError(`--data ${source}: ${(error as Error).message}`);
  }
  tokens = tokens.slice(0, maxTokens);
  if (tokens.length < 2)
    throw new CliError(`--data ${source}: ${tokens.length} tokens; expected at least 2`);
  const result = await evaluateTokens(model, tokens, blockSize, batchSize);
  const summary = {
    loss: +result.loss.toFixed(4),
    perplexity: +Math.exp(result.loss).toFixed(4),
    tokens: result.tokens,
    windows: result.windows,
    step,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else
    console.log(
      `step ${step}: loss ${summary.loss}, perplexity ${summary.perplexity} over ${summary.tokens.toLocaleString()} predicted tokens of ${source}`,
    );
  return summary;
}
