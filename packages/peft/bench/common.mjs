// Shared by the PEFT benchmark's processes: the two corpora, the character vocabulary over both,
// the model shape, and a deterministic loss over fixed validation windows.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crossEntropy, noGrad, tensor, tidy } from '@llmkit/core-tensor';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..', '..');
export const shakespearePath = join(repoRoot, '..', 'shared', 'data', 'tinyshakespeare.txt');

/** Registers the native cpu backend when it loads here; otherwise the js reference backend runs. */
export async function useFastBackend() {
  try {
    await import('@llmkit/backend-cpu/register');
  } catch (error) {
    console.error(`the cpu backend did not load (${error.message.split('\n')[0]}); running on js`);
  }
}

/** nanoGPT's small character-level CPU configuration (the trainer benchmark's). */
export const MODEL = { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0 };
export const BATCH = 12;
/** Fine-tuning and evaluation windows: 8 positions short of blockSize, room for prompt tuning's 8 virtual tokens. */
export const CONTEXT = MODEL.blockSize - 8;

/**
 * The old domain (Tiny Shakespeare) and the new one (this repository's git-tracked Markdown),
 * encoded with a character vocabulary over both. Pretraining stores the Markdown and the
 * vocabulary beside the base model (`snapshot`), and fine-tuning reads them back, so the files
 * others commit meanwhile change nothing.
 */
export function corpora(snapshot) {
  const old = readFileSync(shakespearePath, 'utf8');
  let markdown;
  let chars;
  if (snapshot && existsSync(join(snapshot, 'corpus.json'))) {
    ({ markdown, chars } = JSON.parse(readFileSync(join(snapshot, 'corpus.json'), 'utf8')));
  } else {
    const files = execFileSync('git', ['ls-files', '*.md'], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && !f.includes('CHANGELOG'));
    markdown = files.map((f) => readFileSync(join(repoRoot, f), 'utf8')).join('\n\n');
    chars = [...new Set(old + markdown)].sort();
    if (snapshot) writeFileSync(join(snapshot, 'corpus.json'), JSON.stringify({ markdown, chars }));
  }
  const index = new Map(chars.map((c, i) => [c, i]));
  const encode = (text) => Int32Array.from(text, (c) => index.get(c));
  return { chars, old: encode(old), markdown: encode(markdown) };
}

/** The last 10% of a token stream (TokenWindows' validation split). */
export function validationSplit(tokens) {
  return tokens.subarray(Math.floor(tokens.length * 0.9));
}

/**
 * Mean next-token cross-entropy over the first `windows` non-overlapping windows of `tokens`
 * (the same windows for every method, so the numbers compare exactly).
 */
export async function windowLoss(model, tokens, windows = 96) {
  const T = CONTEXT;
  const count = Math.min(windows, Math.floor((tokens.length - 1) / T));
  model.eval();
  let total = 0;
  for (let start = 0; start < count; start += BATCH) {
    const rows = Math.min(BATCH, count - start);
    const inputs = new Int32Array(rows * T);
    const targets = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) {
      const offset = (start + r) * T;
      inputs.set(tokens.subarray(offset, offset + T), r * T);
      targets.set(tokens.subarray(offset + 1, offset + T + 1), r * T);
    }
    const loss = noGrad(() =>
      tidy(() => {
        const { logits } = model.forward(tensor(inputs, { shape: [rows, T], dtype: 'int32' }));
        return crossEntropy(
          logits.reshape([rows * T, logits.shape[2]]),
          tensor(targets, { shape: [rows * T], dtype: 'int32' }),
        );
      }),
    );
    total += (await loss.data())[0] * rows;
    loss.dispose();
  }
  model.train();
  return total / count;
}
