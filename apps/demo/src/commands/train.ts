import { join, resolve } from 'node:path';
import { integerFlag, parseFlags, seedFlag } from '../flags.js';
import { PRESETS, presetNamed } from '../presets.js';
import { type PretrainSummary, pretrain } from '../pretrain.js';

export const TRAIN_HELP = `usage: llmkit train [--data FILE] [--preset NAME] [--max-steps N] [--backend cpu|js|webgpu]
                   [--out DIR] [--resume] [--json] [--seed N]

Trains a character-level GPT on a text file (default: this repository's own Markdown).
  --data FILE        text to train on; the first 90% trains, the last 10% validates
  --preset NAME      ${Object.entries(PRESETS)
    .map(([n, p]) => `${n}: ${p.description}`)
    .join('; ')}
  --max-steps N      optimizer steps, the trainer's maxSteps (default: the preset's);
                     --max-iters N, its old name, still works
  --backend NAME     cpu (native, the default when it builds here), js (reference) or webgpu
  --out DIR          run folder (default runs/<preset>): the final model (config.json +
                     model.safetensors, which load(DIR) of @llmkit/transformer opens), run.json
                     (model config, tokenizer, data), checkpoint-* folders and loss.svg
  --resume           continue from the newest checkpoint in --out (a new run refuses a folder
                     that holds checkpoints)
  --json             JSON lines instead of a progress bar; the last line is the summary
  --seed N           seed of the initialisation and the batch sampler (default 1337)`;

/** `llmkit train`: returns the summary printed last. */
export async function train(args: string[]): Promise<PretrainSummary | undefined> {
  const { values } = parseFlags(
    'train',
    args,
    {
      data: { type: 'string' },
      preset: { type: 'string', default: 'shakespeare-char' },
      'max-steps': { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1337' },
      help: { type: 'boolean', default: false },
    },
    { 'max-iters': 'max-steps' },
  );
  if (values.help) {
    console.log(TRAIN_HELP);
    return undefined;
  }
  const preset = presetNamed(values.preset!);
  const maxSteps =
    values['max-steps'] === undefined
      ? preset.defaultMaxSteps
      : integerFlag('max-steps', values['max-steps']);
  const seed = seedFlag(values.seed);
  return pretrain({
    data: values.data,
    presetName: values.preset!,
    preset,
    maxSteps,
    backend: values.backend,
    out: resolve(values.out ?? join('runs', values.preset!)),
    resume: values.resume!,
    json: values.json!,
    seed,
  });
}
