import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateText, loadRun } from './sample.js';
import { train } from './train.js';

export const DEMO_HELP = `usage: llmkit demo [--max-iters N] [--out DIR]

The quick start: trains a small character-level GPT on this repository's own Markdown for a few
hundred steps (about a minute on two cores with the native cpu backend), then samples from it.`;

/** `llmkit demo`. */
export async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'max-iters': { type: 'string', default: '300' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(DEMO_HELP);
  const out = values.out ?? join(tmpdir(), `llmkit-demo-${process.pid}`);
  await train(['--max-iters', values['max-iters']!, '--out', out]);
  const { model, tokenizer, blockSize, step } = await loadRun(out);
  console.log(`\nsample after ${step} steps (temperature 0.8, top-k 200):\n`);
  await generateText(model, tokenizer, blockSize, tokenizer.encode('\n'), {
    maxNewTokens: 400,
    doSample: true,
    temperature: 0.8,
    topK: 200,
    seed: 1337,
  });
}
