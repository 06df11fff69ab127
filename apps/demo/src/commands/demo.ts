import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { integerFlag, parseFlags } from '../flags.js';
import { generateText } from '../generate.js';
import { openLanguageModel } from '../run-folder.js';
import { presetNamed } from '../presets.js';
import { pretrain } from '../pretrain.js';

export const DEMO_HELP = `usage: llmkit demo [--max-steps N] [--out DIR]

The quick start: trains a small character-level GPT on this repository's own Markdown for a few
hundred steps (about a minute on two cores with the native cpu backend), then samples from it.
  --max-steps N   optimizer steps (default 300); --max-iters N, its old name, still works
  --out DIR       run folder (default: a new folder under the system's temporary folder)`;

/** `llmkit demo`: \`llmkit train\`, then a sample from the run it wrote. */
export async function demo(args: string[]): Promise<void> {
  const { values } = parseFlags(
    'demo',
    args,
    {
      'max-steps': { type: 'string', default: '300' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    { 'max-iters': 'max-steps' },
  );
  if (values.help) return console.log(DEMO_HELP);
  const maxSteps = integerFlag('max-steps', values['max-steps']);
  const out = resolve(values.out ?? join(tmpdir(), `llmkit-demo-${process.pid}`));
  const presetName = 'shakespeare-char';
  await pretrain({
    presetName,
    preset: presetNamed(presetName),
    maxSteps,
    out,
    resume: false,
    json: false,
    seed: 1337,
  });
  const { model, tokenizer, blockSize, step } = await openLanguageModel(out, '--out');
  console.log(`\nsample after ${step} steps (temperature 0.8, top-k 200):\n`);
  const config = { maxNewTokens: 400, doSample: true, temperature: 0.8, topK: 200, seed: 1337 };
  await generateText(model, tokenizer, blockSize, tokenizer.encode('\n'), config, (piece) =>
    process.stdout.write(piece),
  );
  process.stdout.write('\n');
}
