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
export const sentimentDir = join(repoRoot, '..', 'shared', 'data', 'sentiment');

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
/**
 * The base model's shape at each width (`--width`), blockSize and dropout as in MODEL:
 * 128 is MODEL (0.81M parameters), 256 the same 4 layers twice as wide (3.2M), and 384 nanoGPT's
 * own shakespeare-char shape (6 layers, 6 heads of 64; 10.7M).
 */
export const SHAPES = {
  128: { nLayer: 4, nHead: 4, nEmbd: 128 },
  256: { nLayer: 4, nHead: 4, nEmbd: 256 },
  384: { nLayer: 6, nHead: 6, nEmbd: 384 },
};
/** Widths the benchmark has a shape for. */
export const WIDTHS = Object.keys(SHAPES).map(Number);

/** The GPT config (less vocabSize) of the `width`-wide base. */
export function shapeFor(width = MODEL.nEmbd) {
  const shape = SHAPES[width];
  if (!shape) throw new Error(`no model shape for width ${width}; widths: ${WIDTHS.join(', ')}`);
  return { ...MODEL, ...shape };
}
export const BATCH = 12;
/** Fine-tuning and evaluation windows: 8 positions short of blockSize, room for prompt tuning's 8 virtual tokens. */
export const CONTEXT = MODEL.blockSize - 8;

// Each method's config and peak learning rate on each new domain (cosine decay to a tenth, 20
// warmup steps; the same steps and batches for every method). Adapters take larger steps than full
// fine-tuning, as in PEFT's recipes (2e-4 for LoRA against 2e-5 for full on 7B models). Every rate
// is the best of a sweep on this benchmark, full fine-tuning's included (5e-4, 1e-3, 2e-3, 4e-3),
// so the baseline is not handicapped. LoRA's shape is the best found at <= 2% of the parameters
// (README: r 8 on c_attn; r 2 on all four Conv1D layers; r 1 on the attention with the tied
// embedding trained whole; learning rates 5e-3 to 4e-2).
const ALL_CONV1D = ['c_attn', 'attn.c_proj', 'c_fc', 'mlp.c_proj'];
// keyed by domain and width
const SETTINGS = {
  // 36 characters of the Markdown are new to the base: LoRA trains the tied embedding and head
  // whole (PEFT's advice for new tokens: modules_to_save), rank 1 on the attention keeps it <= 2%
  'markdown-128': {
    full: 2e-3,
    lora: {
      lr: 1e-2,
      r: 1,
      alpha: 2,
      targetModules: ['c_attn', 'attn.c_proj'],
      modulesToSave: ['wte'],
    },
  },
  // English prose, few new characters: rank 2 on attention and MLP alike
  'sentiment-128': {
    full: 1e-3,
    lora: { lr: 1e-2, r: 2, alpha: 4, targetModules: ALL_CONV1D, modulesToSave: [] },
  },
  // twice as wide: 2% leaves room for rank 2 on all four layers beside the embedding
  'markdown-256': {
    full: 1e-3,
    lora: { lr: 5e-3, r: 2, alpha: 8, targetModules: ALL_CONV1D, modulesToSave: ['wte'] },
  },
  // nanoGPT's shakespeare-char shape (6 x 384): 2% leaves room for the rank 8 on the
  // attention's input and the MLP's, beside the embedding (1.88%)
  'markdown-384': {
    full: 1e-3,
    lora: { lr: 5e-3, r: 8, alpha: 16, targetModules: ['c_attn', 'c_fc'], modulesToSave: ['wte'] },
  },
};

/** The (domain, width) pairs with swept settings, as `domain-width`. */
export const SWEPT = Object.keys(SETTINGS);

/** The methods' learning rates and configs for fine-tuning a `width`-wide base on `domain`. */
export function methodsFor(domain, width = MODEL.nEmbd) {
  const settings = SETTINGS[`${domain}-${width}`];
  if (!settings)
    throw new Error(
      `no swept settings for ${domain} at width ${width}; swept: ${SWEPT.join(', ')}`,
    );
  const { lr, ...lora } = settings.lora;
  return {
    full: { lr: settings.full },
    lora: { lr, config: { method: 'lora', ...lora } },
    // the same LoRA over an nf4 base (wte stays float: quantizeModel packs the Linear layers)
    qlora: { lr, config: { method: 'qlora', ...lora, format: 'nf4', groupSize: 64 } },
    ia3: { lr: 3e-2, config: { method: 'ia3' } },
    'prompt-tuning': {
      lr: 3e-2,
      config: { method: 'prompt-tuning', numVirtualTokens: 8, init: 'random' },
    },
  };
}

/** The new domains: `markdown` (this repository's Markdown), `sentiment` (review sentences). */
export const DOMAINS = ['markdown', 'sentiment'];

// the text of a new domain, read fresh
function domainText(domain) {
  if (domain === 'sentiment') {
    // the three files' sentences (labels dropped), interleaved line by line so that the
    // validation split (the last 10%) holds Amazon, IMDb and Yelp sentences alike
    const files = ['amazon_cells', 'imdb', 'yelp'].map((name) =>
      readFileSync(join(sentimentDir, `${name}_labelled.txt`), 'utf8')
        .split('\n')
        .filter((line) => line.includes('\t'))
        .map((line) => line.split('\t')[0].trim()),
    );
    const lines = [];
    for (let i = 0; i < Math.max(...files.map((f) => f.length)); i++)
      for (const file of files) if (i < file.length) lines.push(file[i]);
    return lines.join('\n');
  }
  if (domain !== 'markdown') throw new Error(`domain ${domain}: expected ${DOMAINS.join(' or ')}`);
  const files = execFileSync('git', ['ls-files', '*.md'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.includes('CHANGELOG'));
  return files.map((f) => readFileSync(join(repoRoot, f), 'utf8')).join('\n\n');
}

/**
 * The old domain (Tiny Shakespeare) and a new one (`domain`: this repository's git-tracked
 * Markdown, or the sentiment sentences), encoded with a character vocabulary over both.
 * Pretraining stores the domain, its text and the vocabulary beside the base model (`snapshot`), and
 * fine-tuning reads them back, so the Markdown others commit meanwhile changes nothing.
 */
export function corpora(snapshot, domain = 'markdown') {
  const old = readFileSync(shakespearePath, 'utf8');
  let text;
  let chars;
  if (snapshot && existsSync(join(snapshot, 'corpus.json'))) {
    ({ domain, text, chars } = JSON.parse(readFileSync(join(snapshot, 'corpus.json'), 'utf8')));
  } else {
    text = domainText(domain);
    chars = [...new Set(old + text)].sort();
    if (snapshot)
      writeFileSync(join(snapshot, 'corpus.json'), JSON.stringify({ domain, text, chars }));
  }
  const index = new Map(chars.map((c, i) => [c, i]));
  const encode = (value) => Int32Array.from(value, (c) => index.get(c));
  // the characters pretraining never saw (the Markdown has `#`, `|`, digits, braces...)
  const seen = new Set(old);
  const unseen = chars.filter((c) => !seen.has(c));
  return { domain, chars, unseen, old: encode(old), text: encode(text) };
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
