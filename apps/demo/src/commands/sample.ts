import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { noGrad, tensor, tidy, withoutInit } from '@llmkit/core-tensor';
import { streamTokens } from '@llmkit/sampling';
import { CharTokenizer, type CharTokenizerJson } from '@llmkit/tokenizer';
import { loadCheckpoint } from '@llmkit/trainer';
import { GPT } from '@llmkit/transformer';
import { CliError } from '../cli-error.js';
import { chooseBackend } from './backend.js';

export const SAMPLE_HELP = `usage: llmkit sample --checkpoint DIR [--prompt TEXT] [--max-new-tokens N] [--temperature T]
                    [--top-k K] [--top-p P] [--greedy] [--seed N] [--backend NAME]

Generates text from a model trained with \`llmkit train\` (DIR is its --out folder), streaming it.
  --prompt TEXT         text to continue (default: a newline)
  --max-new-tokens N    characters to generate (default 500)
  --temperature T       sampling temperature (default 0.8); --top-k K (default 200); --top-p P
  --greedy              always take the most likely token instead of sampling
  --seed N              seed of the sampler (default 1337)`;

interface RunFile {
  model: ConstructorParameters<typeof GPT>[0] & { blockSize: number };
  tokenizer: CharTokenizerJson;
}

/** Loads a run folder written by `llmkit train`: model config, tokenizer and newest weights. */
export async function loadRun(
  dir: string,
): Promise<{ model: GPT; tokenizer: CharTokenizer; blockSize: number; step: number }> {
  const runFile = join(dir, 'run.json');
  if (!existsSync(runFile))
    throw new CliError(
      `--checkpoint ${dir}: no run.json here; expected the --out folder of llmkit train`,
    );
  const run = JSON.parse(readFileSync(runFile, 'utf8')) as RunFile;
  const model = withoutInit(() => new GPT(run.model)); // the checkpoint's weights replace them
  const { step } = await loadCheckpoint(dir, { model });
  model.eval();
  return {
    model,
    tokenizer: CharTokenizer.fromJSON(run.tokenizer),
    blockSize: run.model.blockSize,
    step,
  };
}

/** `llmkit sample`. */
export async function sample(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      checkpoint: { type: 'string' },
      prompt: { type: 'string', default: '\n' },
      'max-new-tokens': { type: 'string', default: '500' },
      temperature: { type: 'string', default: '0.8' },
      'top-k': { type: 'string', default: '200' },
      'top-p': { type: 'string' },
      greedy: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1337' },
      backend: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(SAMPLE_HELP);
  if (!values.checkpoint)
    throw new CliError('--checkpoint DIR is required (the --out folder of llmkit train)');
  await chooseBackend(values.backend);
  const { model, tokenizer, blockSize } = await loadRun(resolve(values.checkpoint));
  const number = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n))
      throw new CliError(`--${flag} ${value}: expected a number`);
    return n;
  };
  let promptIds: number[];
  try {
    promptIds = tokenizer.encode(values.prompt!);
  } catch (error) {
    throw new CliError(`--prompt: ${(error as Error).message}`);
  }
  await generateText(model, tokenizer, blockSize, promptIds, {
    maxNewTokens: number('max-new-tokens', values['max-new-tokens']),
    ...(values.greedy
      ? {}
      : {
          doSample: true,
          temperature: number('temperature', values.temperature),
          topK: number('top-k', values['top-k']),
          ...(values['top-p'] === undefined ? {} : { topP: number('top-p', values['top-p']) }),
          seed: number('seed', values.seed),
        }),
  });
}

/** Streams a continuation of `promptIds` to stdout, cropping the context to the block size. */
export async function generateText(
  model: GPT,
  tokenizer: CharTokenizer,
  blockSize: number,
  promptIds: number[],
  config: Parameters<typeof streamTokens>[2],
): Promise<string> {
  // full recompute over the last blockSize tokens: exact, and cheap for character models
  const step = async (rows: readonly (readonly number[])[]) => {
    const out: Float32Array[] = [];
    for (const row of rows) {
      const context = row.slice(-blockSize);
      const last = noGrad(() =>
        tidy(() => {
          const input = tensor(Int32Array.from(context), {
            shape: [1, context.length],
            dtype: 'int32',
          });
          const { logits } = model.forward(input, { lastOnly: true }); // [1, 1, V]
          return logits.reshape([logits.shape[2]]);
        }),
      );
      out.push((await last.data<Float32Array>()).slice());
      last.dispose();
    }
    return out;
  };
  let text = '';
  for await (const event of streamTokens(step, [promptIds], config)) {
    const piece = tokenizer.decode([event.token]);
    text += piece;
    process.stdout.write(piece);
  }
  process.stdout.write('\n');
  return text;
}
