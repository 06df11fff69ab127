import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { chooseBackend } from '../backend.js';
import { CliError } from '../cli-error.js';
import { evaluateTokens } from '../evaluate-tokens.js';
import { integerFlag, parseFlags } from '../flags.js';
import { openLanguageModel, readRun, trainingText } from '../run-folder.js';

export const EVAL_HELP = `usage: llmkit eval --checkpoint DIR [--data FILE] [--max-tokens N] [--batch-size N]
                  [--backend NAME] [--json]

Measures validation loss and perplexity of a run folder written by \`llmkit train\` (or finetune),
or of a quantized model folder written by \`llmkit quantize\`.
  --checkpoint DIR   the run folder (its newest checkpoint is evaluated, or its model folder), or
                     a quantized model folder (llmkit quantize --out)
  --data FILE        text to evaluate, all of it (default: the last 10% of the text the run was
                     trained on: its validation split)
  --max-tokens N     evaluate at most the first N tokens of that text
  --batch-size N     windows per forward pass (default 16)
  --backend NAME     cpu (native, the default when it builds here), js (reference) or webgpu
  --json             print one JSON object: loss, perplexity, tokens, windows, step
Every token is predicted once, in consecutive windows of the model's block size.`;

/** `llmkit eval`: returns what it printed. */
export async function evaluate(args: string[]): Promise<Record<string, number | null> | undefined> {
  const { values } = parseFlags('eval', args, {
    checkpoint: { type: 'string' },
    data: { type: 'string' },
    'max-tokens': { type: 'string' },
    'batch-size': { type: 'string', default: '16' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    console.log(EVAL_HELP);
    return undefined;
  }
  if (!values.checkpoint)
    throw new CliError('--checkpoint DIR is required (the --out folder of llmkit train)');
  const batchSize = integerFlag('batch-size', values['batch-size']);
  const maxTokens =
    values['max-tokens'] === undefined
      ? Infinity
      : integerFlag('max-tokens', values['max-tokens'], 2);
  if (values.data !== undefined) {
    if (!existsSync(values.data))
      throw new CliError(`--data ${values.data}: no such file`, {
        code: 'not_found',
      });
    if (!statSync(values.data).isFile()) throw new CliError(`--data ${values.data}: not a file`);
  }
  await chooseBackend(values.backend);
  const dir = resolve(values.checkpoint);
  if (readRun(dir).task === 'classification')
    throw new CliError(
      `--checkpoint ${dir}: a classification run; llmkit eval measures language models (its accuracy is in the finetune summary)`,
    );
  const { run, model, tokenizer, blockSize, step } = await openLanguageModel(dir, '--checkpoint', {
    quantized: true,
  });
  let text: string;
  let source: string;
  if (values.data === undefined) {
    // TokenWindows' split: the first floor(0.9 * n) tokens train, the rest validate (1 char = 1 token)
    const characters = [...trainingText(dir, run)];
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
      `${step === null ? 'the final model' : `step ${step}`}: loss ${summary.loss}, perplexity ${summary.perplexity} over ${summary.tokens.toLocaleString()} predicted tokens of ${source}`,
    );
  return summary;
}
