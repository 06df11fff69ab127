import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manualSeed, type Tensor } from '@llmkit/core-tensor';
import { getPeftModel, type PeftConfig, PeftModel, saveAdapter } from '@llmkit/peft';
import { CHATML_TEMPLATE, encodingToJSON, PLAIN_TEMPLATE, trainBpe } from '@llmkit/tokenizer';
import {
  causalLanguageModelLoss,
  classificationAccuracy,
  countTargets,
  createProgressReporter,
  evaluateClassifier,
  holdOut,
  instructionBatches,
  LabelledSequences,
  parseInstructionRecords,
  type LanguageModelBatch,
  parseLabelledLines,
  ReplayData,
  sequenceClassificationLoss,
  TokenWindows,
  type TrainingData,
  Trainer,
  type TrainResult,
} from '@llmkit/trainer';
import { EncoderForSequenceClassification, type GPT } from '@llmkit/transformer';
import { chooseBackend } from '../backend.js';
import { CliError } from '../cli-error.js';
import { evaluateTokens } from '../evaluate-tokens.js';
import { parseFlags, seedFlag } from '../flags.js';
import { openLanguageModel, startRun, trainingText, writeModel } from '../run-folder.js';

export const FINETUNE_HELP = `usage: llmkit finetune --task instruction|classification --data PATH [--out DIR]
                      [--max-steps N] [--learning-rate LR] [--batch-size N] [--seed N]
                      [--backend NAME] [--json] [task options]

Fine-tunes a model for instructions or trains an encoder to classify sentences.
  --task instruction     full fine-tuning of a \`llmkit train\` run on prompt/response records:
                         PATH holds JSON lines {"prompt", "response"} (or Alpaca's instruction,
                         input, output), rendered with a chat template; only the responses count
                         in the loss. The --out folder works with llmkit sample and llmkit eval.
      --checkpoint DIR   the run to start from (required)
      --template NAME    plain ("User: ...\\nAssistant: ...", the default) or chatml
      --replay F         share of each batch drawn from the base run's own text, against
                         forgetting it (ReplayData's fraction; default 0, none; below 1)
      --method NAME      full (default), or parameter-efficient with @llmkit/peft: lora, qlora
                         (LoRA over an nf4 base), ia3 or prompt-tuning (8 virtual tokens); the
                         adapter goes to DIR/adapter in Hugging Face PEFT's layout, and lora and
                         ia3 also write the merged model (qlora and prompt-tuning: adapter only)
      --r N              LoRA / QLoRA rank (default 8)
      --alpha A          LoRA / QLoRA alpha, the update scaled by alpha / r (default 16)
      --target-modules L comma-separated module names (default: c_attn for LoRA; c_attn and
                         mlp.c_proj for IA3, where mlp.* scale their inputs)
  --task classification  trains an encoder classifier from scratch, with a small BPE learned
                         from the data, on "sentence<TAB>label" lines (PATH: a file, or a folder
                         of .txt files) and reports accuracy on a held-out split
  --out DIR              run folder (default runs/finetune-<task>), laid out as llmkit train's:
                         the final model (config.json + model.safetensors) beside run.json and
                         the checkpoints; it must not hold checkpoints of another run
  --max-steps N          optimizer steps, the trainer's maxSteps (default 200); --max-iters N,
                         its old name, still works
  --learning-rate LR     peak learning rate (instruction 3e-4, classification 1e-3), cosine decay
  --batch-size N         examples per step (instruction 8, classification 32)
  --validation-fraction F  share of the records held out (default 0.1)
  --seed N               seed of the split, the batches and the initialisation (default 1337)
  --backend NAME         cpu (native, the default when it builds here), js (reference) or webgpu
  --json                 JSON lines instead of a progress bar; the last line is the summary`;

const TEMPLATES: Record<string, string> = { plain: PLAIN_TEMPLATE, chatml: CHATML_TEMPLATE };

function readPath(path: string | undefined, folderExtension?: string): string {
  if (path === undefined) throw new CliError('--data PATH is required');
  if (!existsSync(path)) throw new CliError(`--data ${path}: no such file`, { code: 'not_found' });
  if (!folderExtension && statSync(path).isDirectory())
    throw new CliError(`--data ${path}: a folder; expected a JSON lines file`);
  const text =
    folderExtension && statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => f.endsWith(folderExtension))
          .sort()
          .map((f) => readFileSync(join(path, f), 'utf8'))
          .join('\n')
      : readFileSync(path, 'utf8');
  if (text.trim() === '') throw new CliError(`--data ${path}: no records (the input is empty)`);
  return text;
}

interface Common {
  data: string;
  out: string;
  maxSteps: number;
  learningRate: number;
  batchSize: number;
  validationFraction: number;
  seed: number;
  json: boolean;
}

function trainerConfig(common: Common, checkpoint: { dir: string; keepLast: number }) {
  const { maxSteps, learningRate } = common;
  return {
    maxSteps,
    evalInterval: Math.min(50, maxSteps),
    evalBatches: 4,
    schedule: {
      kind: 'cosine' as const,
      learningRate,
      warmupSteps: Math.floor(maxSteps / 10),
      decaySteps: maxSteps,
      minLearningRate: learningRate / 10,
    },
    checkpoint,
  };
}

function split<T>(items: T[], common: Common, what: string) {
  if (items.length < 2)
    throw new CliError(
      `--data ${common.data}: ${items.length} ${what}; expected at least 2 (some are held out)`,
    );
  return holdOut(items, common.validationFraction, common.seed);
}

function summarise(task: string, result: TrainResult, extra: Record<string, number | string> = {}) {
  return {
    task,
    steps: result.steps,
    ms_per_step: +result.msPerStep.toFixed(2),
    train_loss: +result.trainLoss.toFixed(4),
    val_loss: result.validationLoss === null ? Number.NaN : +result.validationLoss.toFixed(4),
    ...extra,
  };
}

/** The PEFT flags of `--task instruction`. */
interface PeftFlags {
  method: string;
  r: number;
  alpha: number;
  targetModules: string[] | undefined;
}

const PEFT_METHODS = ['full', 'lora', 'qlora', 'ia3', 'prompt-tuning'];
const VIRTUAL_TOKENS = 8;

/** The model to train: `model` itself for full fine-tuning, else a PeftModel around it. */
function adapt(model: GPT, flags: PeftFlags): GPT | PeftModel<GPT> {
  const targets = flags.targetModules;
  const configs: Record<string, PeftConfig> = {
    lora: {
      method: 'lora',
      r: flags.r,
      alpha: flags.alpha,
      ...(targets ? { targetModules: targets } : {}),
    },
    qlora: {
      method: 'qlora',
      r: flags.r,
      alpha: flags.alpha,
      ...(targets ? { targetModules: targets } : {}),
    },
    ia3: {
      method: 'ia3',
      ...(targets
        ? {
            targetModules: targets,
            feedforwardModules: targets.filter((t) => t.startsWith('mlp.')),
          }
        : {}),
    },
    'prompt-tuning': { method: 'prompt-tuning', numVirtualTokens: VIRTUAL_TOKENS },
  };
  if (flags.method === 'full') return model;
  try {
    return getPeftModel(model, configs[flags.method]);
  } catch (error) {
    throw new CliError(`--method ${flags.method}: ${(error as Error).message}`);
  }
}

/** The base model's parameters and their count, taken before {@link adapt} quantizes or wraps it. */
interface BaseCount {
  parameters: ReadonlySet<Tensor>;
  count: number;
}

/**
 * The parameters of the tuned model as PEFT's print_trainable_parameters counts them: every weight
 * of the base (QLoRA's packed nf4 weights are buffers, not parameters, yet each is still one
 * weight) plus the adapter's own tensors.
 */
function allParameterCount(base: BaseCount, tuned: GPT | PeftModel<GPT>): number {
  const added = tuned.parameters().filter((p) => !base.parameters.has(p));
  return base.count + added.reduce((n, p) => n + p.size, 0);
}

/** Writes the tuned model (and adapter) and returns the PEFT part of the summary. */
async function writeTuned(
  out: string,
  from: string,
  model: GPT,
  tuned: GPT | PeftModel<GPT>,
  base: BaseCount,
) {
  const trainable = tuned
    .parameters()
    .filter((p) => p.requiresGrad)
    .reduce((n, p) => n + p.size, 0);
  const all = allParameterCount(base, tuned);
  const summary: Record<string, number | string> = {
    trainable_parameters: trainable,
    trainable_percent: +((100 * trainable) / all).toFixed(3),
    peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
  };
  if (!(tuned instanceof PeftModel)) {
    await writeModel(out, model);
    return summary;
  }
  const adapter = join(out, 'adapter');
  await saveAdapter(tuned, adapter, { baseModelNameOrPath: from });
  summary.adapter_bytes = statSync(join(adapter, 'adapter_model.safetensors')).size;
  if (tuned.adapterMethod(tuned.adapterNames[0]).mergeable)
    await writeModel(out, tuned.mergeAndUnload());
  return summary;
}

async function instruction(
  common: Common,
  checkpoint: string | undefined,
  template: string,
  replay: number,
  peftFlags: PeftFlags,
) {
  if (!checkpoint)
    throw new CliError('--task instruction needs --checkpoint DIR (a run of llmkit train)');
  if (!(template in TEMPLATES))
    throw new CliError(`--template ${template}: expected ${Object.keys(TEMPLATES).join(' or ')}`);
  const from = resolve(checkpoint);
  let records: ReturnType<typeof parseInstructionRecords>;
  try {
    records = parseInstructionRecords(readPath(common.data), common.data);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError((error as Error).message);
  }
  const { run, model, tokenizer, blockSize: modelBlockSize } = await openLanguageModel(from);
  // counted before adapting: QLoRA turns the base's Linear weights into packed buffers
  const baseCount: BaseCount = {
    parameters: new Set(model.parameters()),
    count: model.parameterCount(),
  };
  const tuned = adapt(model, peftFlags);
  // prompt tuning's virtual tokens take room from the context
  const blockSize = modelBlockSize - (peftFlags.method === 'prompt-tuning' ? VIRTUAL_TOKENS : 0);
  let instructions: ReturnType<typeof instructionBatches>;
  try {
    instructions = instructionBatches(split(records, common, 'records'), {
      encode: (text) => tokenizer.encode(text),
      template: TEMPLATES[template],
      batchSize: common.batchSize,
      padTokenId: 0,
      maxLength: blockSize,
      seed: common.seed,
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(
      `--data ${common.data}: ${(error as Error).message} (the model only knows the characters it was trained on)`,
    );
  }
  await startRun(
    common.out,
    {
      task: 'language-model',
      model: run.model,
      tokenizer: run.tokenizer,
      data: run.data, // the base text: what llmkit eval of the tuned run measures by default
      ...(run.preset === undefined ? {} : { preset: run.preset }),
      finetune: {
        task: 'instruction',
        from,
        data: common.data,
        template,
        replay,
      },
    },
    { resume: false },
  );
  // the base run's text: replayed during fine-tuning if asked, and evaluated after it
  let baseTokens: number[] = [];
  try {
    baseTokens = tokenizer.encode(trainingText(from, run));
  } catch (error) {
    if (replay > 0) throw error; // without replay, the base text is only for the summary
  }
  const data: TrainingData<LanguageModelBatch> =
    replay > 0
      ? new ReplayData<LanguageModelBatch>(
          instructions,
          new TokenWindows(baseTokens, {
            blockSize,
            batchSize: common.batchSize,
            seed: common.seed,
          }),
          { fraction: replay },
        )
      : instructions;
  tuned.train();
  const trainer = new Trainer({
    model: tuned,
    loss: causalLanguageModelLoss,
    data,
    tokensIn: countTargets,
    config: trainerConfig(common, { dir: common.out, keepLast: 2 }),
    progress: progressFor(common),
  });
  const result = await trainer.train();
  tuned.eval();
  const validation = baseTokens.slice(Math.floor(baseTokens.length * 0.9));
  const base =
    validation.length > 1
      ? (await evaluateTokens(tuned as GPT, validation, blockSize, 16)).loss
      : Number.NaN;
  const written = await writeTuned(common.out, from, model, tuned, baseCount);
  return summarise('instruction', result, {
    replay,
    base_val_loss: +base.toFixed(4),
    ...written,
    method: peftFlags.method,
  });
}

async function classification(common: Common) {
  let sentences: ReturnType<typeof parseLabelledLines>;
  try {
    sentences = parseLabelledLines(readPath(common.data, '.txt'), common.data);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError((error as Error).message);
  }
  const numLabels = Math.max(...sentences.map((s) => s.label)) + 1;
  const { train, validation } = split(sentences, common, 'sentences');
  // a small byte-level BPE learned from the training sentences (lower-cased), with two special
  // ids: padding, and a leading token the pooler reads (BERT's [CLS])
  const encoding = trainBpe(train.map((s) => s.text.toLowerCase()).join('\n'), {
    vocabSize: Math.min(1000, 256 + Math.max(16, train.length)),
    specialTokens: ['<cls>', '<pad>'],
    name: 'finetune-classification',
  });
  const pad = encoding.specialTokens['<pad>'];
  const cls = encoding.specialTokens['<cls>'];
  const blockSize = 64;
  const encode = (s: { text: string; label: number }) => ({
    ids: [cls, ...encoding.encode(s.text.toLowerCase(), { disallowedSpecial: [] })].slice(
      0,
      blockSize,
    ),
    label: s.label,
  });
  const examples = { train: train.map(encode), validation: validation.map(encode) };
  const modelConfig = {
    vocabSize: encoding.vocabSize,
    blockSize,
    nLayer: 2,
    nHead: 4,
    nEmbd: 64,
    dropout: 0.1,
    typeVocabSize: 0,
  };
  manualSeed(common.seed);
  const model = new EncoderForSequenceClassification(modelConfig, numLabels);
  await startRun(
    common.out,
    {
      task: 'classification',
      model: modelConfig,
      numLabels,
      tokenizer: encodingToJSON(encoding),
      padTokenId: pad,
      clsTokenId: cls,
      data: common.data,
    },
    { resume: false },
  );
  const trainer = new Trainer({
    model,
    loss: sequenceClassificationLoss,
    metrics: classificationAccuracy,
    data: new LabelledSequences(examples, {
      batchSize: common.batchSize,
      padTokenId: pad,
      maxLength: blockSize,
      seed: common.seed,
    }),
    tokensIn: (batch) => batch.labels.length,
    config: trainerConfig(common, { dir: common.out, keepLast: 2 }),
    progress: progressFor(common),
  });
  const result = await trainer.train();
  await writeModel(common.out, model);
  const heldOut = await evaluateClassifier(model, examples.validation, {
    padTokenId: pad,
    batchSize: 64,
  });
  return summarise('classification', result, {
    val_accuracy: +heldOut.accuracy.toFixed(4),
    val_examples: heldOut.count,
  });
}

function progressFor(common: Common) {
  return createProgressReporter({
    json: common.json,
    stream: common.json ? process.stdout : process.stderr,
  });
}

/** `llmkit finetune`: returns the summary printed last. */
export async function finetune(args: string[]): Promise<Record<string, unknown> | undefined> {
  const { values } = parseFlags(
    'finetune',
    args,
    {
      task: { type: 'string' },
      data: { type: 'string' },
      checkpoint: { type: 'string' },
      template: { type: 'string', default: 'plain' },
      replay: { type: 'string', default: '0' },
      method: { type: 'string', default: 'full' },
      r: { type: 'string', default: '8' },
      alpha: { type: 'string', default: '16' },
      'target-modules': { type: 'string' },
      out: { type: 'string' },
      'max-steps': { type: 'string', default: '200' },
      'learning-rate': { type: 'string' },
      'batch-size': { type: 'string' },
      'validation-fraction': { type: 'string', default: '0.1' },
      seed: { type: 'string', default: '1337' },
      backend: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    { 'max-iters': 'max-steps' },
  );
  if (values.help) {
    console.log(FINETUNE_HELP);
    return undefined;
  }
  const task = values.task;
  if (task !== 'instruction' && task !== 'classification')
    throw new CliError(
      `--task ${task ?? '(missing)'}: expected instruction or classification (see llmkit finetune --help)`,
    );
  const number = (flag: string, value: string | undefined, fallback: number, integer: boolean) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new CliError(
        `--${flag} ${value}: expected a positive ${integer ? 'integer' : 'number'}`,
      );
    return n;
  };
  const instructionTask = task === 'instruction';
  const validationFraction = Number(values['validation-fraction']);
  if (!(validationFraction > 0 && validationFraction < 1))
    throw new CliError(
      `--validation-fraction ${values['validation-fraction']}: expected a number in (0, 1)`,
    );
  const replay = Number(values.replay);
  if (!(replay >= 0 && replay < 1))
    throw new CliError(`--replay ${values.replay}: expected a fraction in [0, 1)`);
  const seed = seedFlag(values.seed);
  if (!PEFT_METHODS.includes(values.method!))
    throw new CliError(`--method ${values.method}: expected ${PEFT_METHODS.join(', ')}`);
  if (values.method !== 'full' && !instructionTask)
    throw new CliError(
      `--method ${values.method}: parameter-efficient methods need --task instruction`,
    );
  const peftFlags: PeftFlags = {
    method: values.method!,
    r: number('r', values.r, 8, true),
    alpha: number('alpha', values.alpha, 16, false),
    targetModules: values['target-modules']
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  };
  const common: Common = {
    data: values.data ?? '',
    out: resolve(values.out ?? join('runs', `finetune-${task}`)),
    maxSteps: number('max-steps', values['max-steps'], 200, true),
    learningRate: number(
      'learning-rate',
      values['learning-rate'],
      instructionTask ? 3e-4 : 1e-3,
      false,
    ),
    batchSize: number('batch-size', values['batch-size'], instructionTask ? 8 : 32, true),
    validationFraction,
    seed,
    json: values.json!,
  };
  if (values.data === undefined) throw new CliError('--data PATH is required');
  const backend = await chooseBackend(values.backend);
  if (!values.json)
    console.error(`fine-tuning (${task}) with the ${backend} backend; run folder ${common.out}`);
  const summary = instructionTask
    ? await instruction(common, values.checkpoint, values.template!, replay, peftFlags)
    : await classification(common);
  if (values.json) console.log(JSON.stringify(summary));
  else console.error(`done: ${JSON.stringify(summary)}`);
  return summary;
}
