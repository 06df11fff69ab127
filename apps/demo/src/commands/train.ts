import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { manualSeed } from '@llmkit/core-tensor';
import { CharTokenizer, writeFileAtomic } from '@llmkit/tokenizer';
import {
  causalLanguageModelLoss,
  countTargets,
  createProgressReporter,
  TokenWindows,
  Trainer,
} from '@llmkit/trainer';
import { GPT } from '@llmkit/transformer';
import { readBundledText } from '../bundled-text.js';
import { CliError } from '../cli-error.js';
import { PRESETS, presetNamed } from '../presets.js';
import { chooseBackend } from './backend.js';

export const TRAIN_HELP = `usage: llmkit train [--data FILE] [--preset NAME] [--max-iters N] [--backend cpu|js|webgpu]
                   [--out DIR] [--resume] [--json] [--seed N]

Trains a character-level GPT on a text file (default: this repository's own Markdown).
  --data FILE        text to train on; the first 90% trains, the last 10% validates
  --preset NAME      ${Object.entries(PRESETS)
    .map(([n, p]) => `${n}: ${p.description}`)
    .join('; ')}
  --max-iters N      optimizer steps (default: the preset's)
  --backend NAME     cpu (native, the default when it builds here), js (reference) or webgpu
  --out DIR          run folder: checkpoints, tokenizer, loss.svg (default runs/<preset>)
  --resume           continue from the newest checkpoint in --out
  --json             JSON lines instead of a progress bar; the last line is the summary
  --seed N           seed of the initialisation and the batch sampler (default 1337)`;

/** Reads the training text, with clear errors for a missing or empty file. */
function readText(path: string | undefined): { text: string; source: string } {
  if (path === undefined) return { text: readBundledText(), source: "the repository's Markdown" };
  if (!existsSync(path)) throw new CliError(`--data ${path}: no such file`);
  if (!statSync(path).isFile()) throw new CliError(`--data ${path}: not a file`);
  const text = readFileSync(path, 'utf8');
  if (text.length === 0)
    throw new CliError(`--data ${path}: the file is empty; expected text to train on`);
  return { text, source: path };
}

/** `llmkit train`: returns the summary printed last. */
export async function train(args: string[]): Promise<Record<string, number> | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      preset: { type: 'string', default: 'shakespeare-char' },
      'max-iters': { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1337' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(TRAIN_HELP);
    return undefined;
  }
  const preset = presetNamed(values.preset!);
  const maxIters =
    values['max-iters'] === undefined ? preset.defaultMaxIters : Number(values['max-iters']);
  if (!Number.isInteger(maxIters) || maxIters < 1)
    throw new CliError(`--max-iters ${values['max-iters']}: expected a positive integer`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed ${values.seed}: expected an integer`);
  const { text, source } = readText(values.data);
  const out = resolve(values.out ?? join('runs', values.preset!));
  const backend = await chooseBackend(values.backend);

  const tokenizer = CharTokenizer.fromText(text);
  const tokens = tokenizer.encode(text);
  const { blockSize } = preset.model;
  let data: TokenWindows;
  try {
    data = new TokenWindows(tokens, { blockSize, batchSize: preset.batchSize, seed });
  } catch (error) {
    throw new CliError(`--data ${source}: ${(error as Error).message}`);
  }
  manualSeed(seed);
  const modelConfig = { vocabSize: tokenizer.vocabSize, ...preset.model };
  const model = new GPT(modelConfig);
  mkdirSync(out, { recursive: true });
  writeFileAtomic(
    join(out, 'run.json'),
    JSON.stringify({
      preset: values.preset,
      model: modelConfig,
      tokenizer: tokenizer.toJSON(),
      data: source,
    }),
  );
  const trainer = new Trainer({
    model,
    loss: causalLanguageModelLoss,
    data,
    tokensIn: countTargets,
    config: { ...preset.trainer(maxIters), checkpoint: { dir: out, keepLast: 3 } },
    // --json: JSON lines on stdout; otherwise a bar on a terminal, JSON lines on stderr when piped
    progress: createProgressReporter(
      values.json ? { json: true, stream: process.stdout } : { stream: process.stderr },
    ),
  });
  if (values.resume && !(await trainer.resume()))
    throw new CliError(`--resume: no checkpoint in ${out}`);
  if (!values.json) {
    console.error(
      `training ${model.parameterCount().toLocaleString()} parameters on ${source} (${tokens.length.toLocaleString()} characters, vocabulary ${tokenizer.vocabSize}) with the ${backend} backend; run folder ${out}`,
    );
  }
  const result = await trainer.train();
  const summary = {
    iters: result.steps,
    ms_per_step: +result.msPerStep.toFixed(2),
    train_loss: +result.trainLoss.toFixed(4),
    val_loss: result.validationLoss === null ? Number.NaN : +result.validationLoss.toFixed(4),
    tokens_per_s: Math.round(result.tokensPerSecond),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (values.json) console.log(JSON.stringify(summary));
  else
    console.error(
      `done: validation loss ${summary.val_loss}, ${summary.ms_per_step} ms/step; loss curve in ${join(out, 'loss.svg')}`,
    );
  return summary;
}
