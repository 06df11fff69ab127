// The run folder of `llmkit train` and `llmkit finetune` (their --out), the one place that reads
// and writes it. Layout (version 2):
//
//   runs/shakespeare-char/
//     config.json, model.safetensors   the final model: `load(dir)` of @llmkit/transformer opens it
//     run.json                         what the CLI needs: task, model config, tokenizer, data, ...
//     checkpoint-0002000/              the trainer's state (weights, optimizer, trainer.json), the
//     loss.svg                         newest few, and its loss curve
//
// The --out of `llmkit quantize` is a model folder too: config.json, quantization.json and the
// packed model.safetensors (loadQuantized of @llmkit/quantize opens it) plus the run.json.
//
// Version 1 folders (before the model folder; run.json without `format`) have the same run.json
// fields less `format`, `version` and (for language models) `task`, and only checkpoints; they
// open the same way. The model config and tokenizer stay in run.json because checkpoints exist
// before the final model does (a run stopped early, or resumed, has only checkpoints).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withoutInit } from '@llmkit/core-tensor';
import { isQuantizedCheckpoint, loadQuantized } from '@llmkit/quantize';
import { CharTokenizer, type CharTokenizerJson } from '@llmkit/tokenizer';
import { listCheckpoints, loadCheckpoint } from '@llmkit/trainer';
import { type EncoderConfig, GPT, type GPTConfig, load, save } from '@llmkit/transformer';
import { writeFileAtomicSync } from '@llmkit/utils';
import { readBundledText } from './bundled-text.js';
import { CliError } from './cli-error.js';

/** The newest run.json layout this CLI writes. */
export const RUN_VERSION = 2;

/** How a language-model run was fine-tuned from another run (`llmkit finetune --task instruction`). */
export interface FinetuneRecord {
  task: 'instruction';
  /** The run folder it started from. */
  from: string;
  /** The records it was tuned on. */
  data: string;
  /** The chat template's name (plain or chatml). */
  template: string;
  /** Share of each batch replayed from the base run's text (0: none). */
  replay?: number;
}

/** run.json of a character-level GPT: `llmkit train`, or `finetune --task instruction`. */
export interface LanguageModelRun {
  format: 'llmkit-run';
  version: number;
  task: 'language-model';
  /** The GPT's config; `blockSize` is its context length. */
  model: GPTConfig & { blockSize: number };
  tokenizer: CharTokenizerJson;
  /** The training text: a path, or "the repository's Markdown" (the bundled text). */
  data: string;
  /** `llmkit train --preset`. */
  preset?: string;
  finetune?: FinetuneRecord;
}

/** run.json of an encoder classifier: `llmkit finetune --task classification`. */
export interface ClassificationRun {
  format: 'llmkit-run';
  version: number;
  task: 'classification';
  model: EncoderConfig;
  numLabels: number;
  /** The byte-level BPE learned from the data, as `encodingToJSON` writes it. */
  tokenizer: unknown;
  padTokenId: number;
  clsTokenId: number;
  data: string;
}

/** Any run.json, after {@link readRun} has checked and upgraded it. */
export type RunFile = LanguageModelRun | ClassificationRun;

/** What {@link writeRun} is given: a run.json less the fields it adds. */
export type RunFileInput =
  | Omit<LanguageModelRun, 'format' | 'version'>
  | Omit<ClassificationRun, 'format' | 'version'>;

/** The text of the training data recorded as `data` when no --data was given. */
export const BUNDLED_TEXT_SOURCE = "the repository's Markdown";

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown) => (value === undefined ? 'missing' : JSON.stringify(value));

/**
 * Reads and checks `dir/run.json`, upgrading a version 1 file in memory. Errors name the folder,
 * the field and what was expected; `flag` is the option that named the folder (for messages).
 */
export function readRun(dir: string, flag = '--checkpoint'): RunFile {
  const path = join(dir, 'run.json');
  if (!existsSync(path))
    throw new CliError(
      `${flag} ${dir}: no run.json here; expected the --out folder of llmkit train or llmkit finetune`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`${path}: not JSON (${(error as Error).message})`, {
      code: 'corrupt_file',
      cause: error,
    });
  }
  const bad = (field: string, value: unknown, expected: string): never => {
    throw new CliError(`${path}: ${field} is ${describe(value)}; expected ${expected}`);
  };
  if (!isObject(json)) return bad('the content', json, 'an object');
  // version 1 had no format, version or (for language models) task
  const version = json.format === undefined ? 1 : json.version;
  if (json.format !== undefined && json.format !== 'llmkit-run')
    bad('format', json.format, '"llmkit-run"');
  if (!Number.isInteger(version) || (version as number) < 1)
    bad('version', json.version, 'a positive integer');
  if ((version as number) > RUN_VERSION)
    throw new CliError(
      `${path}: version ${version}; this llmkit reads run folders up to version ${RUN_VERSION} (a newer llmkit wrote it)`,
    );
  const task = json.task ?? 'language-model';
  if (task !== 'language-model' && task !== 'classification')
    bad('task', json.task, '"language-model" or "classification"');
  if (!isObject(json.model)) bad('model', json.model, 'the model config (an object)');
  const model = json.model as Record<string, unknown>;
  for (const field of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd'])
    if (!Number.isInteger(model[field]) || (model[field] as number) < 1)
      bad(`model.${field}`, model[field], 'a positive integer');
  if (typeof json.data !== 'string') bad('data', json.data, 'the training data (a string)');
  if (task === 'language-model') {
    const tokenizer = json.tokenizer as Partial<CharTokenizerJson> | undefined;
    if (!isObject(tokenizer) || tokenizer.type !== 'char' || !Array.isArray(tokenizer.chars))
      bad('tokenizer', tokenizer, 'a character tokenizer { "type": "char", "chars": [...] }');
    if (json.finetune !== undefined && !isObject(json.finetune))
      bad('finetune', json.finetune, 'an object');
  } else {
    for (const field of ['numLabels', 'padTokenId', 'clsTokenId'])
      if (!Number.isInteger(json[field]) || (json[field] as number) < 0)
        bad(field, json[field], 'a non-negative integer');
    if (!isObject(json.tokenizer)) bad('tokenizer', json.tokenizer, 'a BPE encoding (an object)');
  }
  return { ...json, format: 'llmkit-run', version, task } as RunFile;
}

/** Writes `dir/run.json` (the folder is created if needed) atomically, as the newest version. */
export function writeRun(dir: string, run: RunFileInput): void {
  mkdirSync(dir, { recursive: true });
  const file = { format: 'llmkit-run', version: RUN_VERSION, ...run };
  writeFileAtomicSync(join(dir, 'run.json'), `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * Writes the final model beside the run's state: `config.json` + `model.safetensors`, the layout
 * `load(dir)` of @llmkit/transformer opens.
 */
export async function writeModel(dir: string, model: Parameters<typeof save>[0]): Promise<void> {
  await save(model, dir);
}

/** A language model opened from a run folder, ready to sample from or evaluate. */
export interface OpenedLanguageModel {
  run: LanguageModelRun;
  model: GPT;
  tokenizer: CharTokenizer;
  /** The model's context length. */
  blockSize: number;
  /** The optimizer step of the weights (null: the model folder of a run without checkpoints). */
  step: number | null;
}

/** Options of {@link openLanguageModel}. */
export interface OpenLanguageModelOptions {
  /**
   * Also open a quantized model folder (the --out of llmkit quantize: a quantization.json beside
   * config.json) with @llmkit/quantize's loadQuantized (default false: commands that train refuse it).
   */
  quantized?: boolean;
}

/**
 * Opens the language model of a run folder, in eval mode: its newest checkpoint (what a run
 * stopped early or resumed has), or the model folder when the checkpoints are gone, or (with
 * `quantized`) the quantized model of an llmkit quantize folder.
 */
export async function openLanguageModel(
  dir: string,
  flag = '--checkpoint',
  options: OpenLanguageModelOptions = {},
): Promise<OpenedLanguageModel> {
  const run = readRun(dir, flag);
  if (run.task !== 'language-model')
    throw new CliError(
      `${flag} ${dir}: a ${run.task} run; expected a language model (the --out folder of llmkit train or finetune --task instruction)`,
    );
  let tokenizer: CharTokenizer;
  try {
    tokenizer = CharTokenizer.fromJSON(run.tokenizer);
  } catch (error) {
    throw new CliError(`${join(dir, 'run.json')}: tokenizer: ${(error as Error).message}`);
  }
  const steps = await listCheckpoints(dir);
  let model: GPT;
  let step: number | null = null;
  if (await isQuantizedCheckpoint(dir)) {
    if (!options.quantized)
      throw new CliError(
        `${flag} ${dir}: a quantized model (llmkit quantize wrote it); this command needs a float run folder (llmkit sample and eval open quantized ones)`,
      );
    const loaded = await loadQuantized(dir).catch((error: Error) => {
      throw new CliError(`${flag} ${dir}: ${error.message}`, {
        code: 'corrupt_file',
        cause: error,
      });
    });
    if (!(loaded instanceof GPT))
      throw new CliError(
        `${flag} ${dir}: config.json holds a ${loaded.constructor.name}; expected a GPT`,
      );
    model = loaded;
  } else if (steps.length > 0) {
    let built: GPT;
    try {
      built = withoutInit(() => new GPT(run.model)); // the checkpoint's weights replace them
    } catch (error) {
      throw new CliError(`${join(dir, 'run.json')}: model: ${(error as Error).message}`);
    }
    model = built;
    step = (await loadCheckpoint(dir, { model })).step;
  } else if (existsSync(join(dir, 'config.json'))) {
    const loaded = await load(dir);
    if (!(loaded instanceof GPT))
      throw new CliError(
        `${flag} ${dir}: config.json holds a ${loaded.constructor.name}; expected a GPT`,
      );
    model = loaded;
  } else {
    throw new CliError(
      `${flag} ${dir}: no checkpoint-* folder and no model (config.json + model.safetensors); the run saved nothing yet`,
    );
  }
  if (model.config.vocabSize !== tokenizer.vocabSize)
    throw new CliError(
      `${flag} ${dir}: the model has ${model.config.vocabSize} token ids but the tokenizer ${tokenizer.vocabSize}`,
    );
  model.eval();
  return { run, model, tokenizer, blockSize: model.config.blockSize, step };
}

/**
 * Writes run.json at the start of a run. A new run refuses a folder that holds checkpoints (the
 * trainer keeps the newest steps, so the new run's early checkpoints would be deleted at once); a
 * resumed one needs them, and a run.json with the same model and tokenizer.
 */
export async function startRun(
  dir: string,
  run: RunFileInput,
  options: { resume: boolean; flag?: string },
): Promise<void> {
  const { resume, flag = '--out' } = options;
  const steps = await listCheckpoints(dir);
  if (!resume && steps.length > 0)
    throw new CliError(
      `${flag} ${dir}: holds checkpoints of an earlier run (newest step ${steps.at(-1)}); pass --resume to continue it, or choose another ${flag}`,
    );
  if (resume) {
    if (steps.length === 0)
      throw new CliError(`--resume: no checkpoint in ${dir}`, { code: 'not_found' });
    if (existsSync(join(dir, 'run.json'))) {
      const previous = readRun(dir, flag);
      for (const field of ['task', 'model', 'tokenizer'] as const)
        if (JSON.stringify(previous[field]) !== JSON.stringify(run[field]))
          throw new CliError(
            `--resume: ${dir} holds a run with another ${field} (its run.json differs); resume it with the same --data and --preset, or choose another ${flag}`,
          );
    }
  }
  writeRun(dir, run);
}

/** The text a run was trained on, as recorded in its run.json. */
export function trainingText(dir: string, run: RunFile): string {
  if (run.data === BUNDLED_TEXT_SOURCE) return readBundledText();
  if (!existsSync(run.data))
    throw new CliError(
      `--checkpoint ${dir}: its training text ${JSON.stringify(run.data)} is not here; pass --data FILE`,
    );
  return readFileSync(run.data, 'utf8');
}
