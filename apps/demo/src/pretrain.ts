// Pretraining a character-level GPT into a run folder: what `llmkit train` and `llmkit demo` run.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '@llmkit/core-tensor';
import { CharTokenizer } from '@llmkit/tokenizer';
import {
  causalLanguageModelLoss,
  countTargets,
  createProgressReporter,
  TokenWindows,
  Trainer,
} from '@llmkit/trainer';
import { GPT } from '@llmkit/transformer';
import { chooseBackend } from './backend.js';
import { readBundledText } from './bundled-text.js';
import { CliError } from './cli-error.js';
import type { Preset } from './presets.js';
import { BUNDLED_TEXT_SOURCE, startRun, writeModel } from './run-folder.js';

/** What {@link pretrain} runs; each field is a flag of `llmkit train`. */
export interface PretrainOptions {
  /** The text file (default: the repository's Markdown). */
  data?: string;
  /** The preset's name (recorded in run.json) and the preset. */
  presetName: string;
  preset: Preset;
  /** The trainer's `maxSteps`. */
  maxSteps: number;
  /** The backend's name (default: the best available). */
  backend?: string;
  /** The run folder, resolved. */
  out: string;
  /** Continue from the newest checkpoint in `out`. */
  resume: boolean;
  /** JSON lines on stdout instead of a progress bar. */
  json: boolean;
  /** Seed of the initialisation and the batch sampler. */
  seed: number;
}

/** The summary `llmkit train` prints last. */
export interface PretrainSummary {
  steps: number;
  ms_per_step: number;
  train_loss: number;
  val_loss: number;
  tokens_per_s: number;
  peak_rss_mb: number;
}

/** Reads the training text, with clear errors for a missing or empty file. */
function readText(path: string | undefined): { text: string; source: string } {
  if (path === undefined) return { text: readBundledText(), source: BUNDLED_TEXT_SOURCE };
  if (!existsSync(path)) throw new CliError(`--data ${path}: no such file`, { code: 'not_found' });
  if (!statSync(path).isFile()) throw new CliError(`--data ${path}: not a file`);
  const text = readFileSync(path, 'utf8');
  if (text.length === 0)
    throw new CliError(`--data ${path}: the file is empty; expected text to train on`);
  return { text, source: path };
}

/** Trains a GPT on the text and writes the run folder (see run-folder.ts); returns the summary. */
export async function pretrain(options: PretrainOptions): Promise<PretrainSummary> {
  const { preset, maxSteps, seed, out } = options;
  const { text, source } = readText(options.data);
  const backend = await chooseBackend(options.backend);

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
  await startRun(
    out,
    {
      task: 'language-model',
      preset: options.presetName,
      model: modelConfig,
      tokenizer: tokenizer.toJSON(),
      data: source,
    },
    { resume: options.resume },
  );
  const trainer = new Trainer({
    model,
    loss: causalLanguageModelLoss,
    data,
    tokensIn: countTargets,
    config: { ...preset.trainer(maxSteps), checkpoint: { dir: out, keepLast: 3 } },
    // --json: JSON lines on stdout; otherwise a bar on a terminal, JSON lines on stderr when piped
    progress: createProgressReporter(
      options.json ? { json: true, stream: process.stdout } : { stream: process.stderr },
    ),
  });
  if (options.resume && !(await trainer.resume()))
    throw new CliError(`--resume: no checkpoint in ${out}`, { code: 'not_found' });
  if (!options.json) {
    console.error(
      `training ${model.parameterCount().toLocaleString()} parameters on ${source} (${tokens.length.toLocaleString()} characters, vocabulary ${tokenizer.vocabSize}) with the ${backend} backend; run folder ${out}`,
    );
  }
  const result = await trainer.train();
  await writeModel(out, model);
  const summary = {
    steps: result.steps,
    ms_per_step: +result.msPerStep.toFixed(2),
    train_loss: +result.trainLoss.toFixed(4),
    val_loss: result.validationLoss === null ? Number.NaN : +result.validationLoss.toFixed(4),
    tokens_per_s: Math.round(result.tokensPerSecond),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (options.json) console.log(JSON.stringify(summary));
  else
    console.error(
      `done: validation loss ${summary.val_loss}, ${summary.ms_per_step} ms/step; model in ${out} (config.json + model.safetensors), loss curve in ${join(out, 'loss.svg')}`,
    );
  return summary;
}
