// `llmkit rag train-embedder`: a small encoder embedder trained with InfoNCE (in-batch negatives)
// on (query, positive) pairs, from a JSON-lines file or built from Markdown (each heading path is
// the query, its section's text the positive), saved for `rag index --embedder-checkpoint DIR`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { manualSeed } from '@llmkit/core-tensor';
import { markdownSections } from '@llmkit/rag';
import {
  type ContrastivePair,
  createEncoderEmbedder,
  saveEncoderEmbedder,
  trainContrastive,
} from '@llmkit/rag/encoder';
import { trainBpe } from '@llmkit/tokenizer';
import { Encoder } from '@llmkit/transformer';
import { CliError } from '../../cli-error.js';
import { chooseBackend } from '../../backend.js';
import { parseFlags } from '../../flags.js';
import { createPhaseProgress } from '../../rag/store.js';
import { findTextFiles } from '../../rag/text-files.js';

/** Pairs of a JSON-lines file: one `{"query": "...", "positive": "..."}` per line. */
function readPairs(path: string): ContrastivePair[] {
  if (!existsSync(path) || !statSync(path).isFile())
    throw new CliError(`--pairs ${path}: no such file`);
  const pairs: ContrastivePair[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let pair: Partial<ContrastivePair>;
      try {
        pair = JSON.parse(line);
      } catch {
        throw new CliError(`--pairs ${path}: line ${i + 1} is not JSON`);
      }
      if (typeof pair?.query !== 'string' || typeof pair?.positive !== 'string')
        throw new CliError(
          `--pairs ${path}: line ${i + 1} needs string fields "query" and "positive"`,
        );
      pairs.push({ query: pair.query, positive: pair.positive });
    });
  return pairs;
}

/** (heading path, section text) pairs from every Markdown file under `dir`. */
export function headingPairs(dir: string): ContrastivePair[] {
  const pairs: ContrastivePair[] = [];
  for (const file of findTextFiles(dir)) {
    if (file.toLowerCase().endsWith('.txt')) continue;
    const text = readFileSync(file, 'utf8');
    for (const section of markdownSections(text)) {
      if (section.headings.length === 0) continue;
      const body = text
        .slice(section.start, section.end)
        .replace(/^[^\n]*\n?/, '')
        .trim();
      if (body) pairs.push({ query: section.headings.join(' / '), positive: body });
    }
  }
  return pairs;
}

function integer(flag: string, value: string | undefined, minimum: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < minimum)
    throw new CliError(`--${flag} ${value}: expected an integer >= ${minimum}`);
  return n;
}

function positive(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !(n > 0))
    throw new CliError(`--${flag} ${value}: expected a number > 0`);
  return n;
}

/** `llmkit rag train-embedder`: returns the summary it prints last. */
export async function ragTrainEmbedder(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseFlags(
    'rag train-embedder',
    args,
    {
      pairs: { type: 'string' },
      'from-markdown': { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string', default: '10' },
      'batch-size': { type: 'string', default: '32' },
      'learning-rate': { type: 'string', default: '1e-3' },
      temperature: { type: 'string', default: '0.05' },
      'vocab-size': { type: 'string', default: '2000' },
      'max-length': { type: 'string', default: '128' },
      'n-layer': { type: 'string', default: '2' },
      'n-head': { type: 'string', default: '4' },
      'n-embd': { type: 'string', default: '128' },
      seed: { type: 'string', default: '1337' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
    },
    // the Encoder's config names (nLayer, nHead, nEmbd); the old names still work
    { layers: 'n-layer', heads: 'n-head', width: 'n-embd' },
  );
  if (!values.out) throw new CliError('--out DIR is required (where the embedder is saved)');
  if (Boolean(values.pairs) === Boolean(values['from-markdown']))
    throw new CliError('give --pairs FILE.jsonl or --from-markdown DIR (one of them)');
  let pairs: ContrastivePair[];
  if (values.pairs) pairs = readPairs(values.pairs);
  else {
    const dir = values['from-markdown']!;
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new CliError(`--from-markdown ${dir}: no such folder`);
    pairs = headingPairs(dir);
  }
  const batchSize = integer('batch-size', values['batch-size'], 2);
  if (pairs.length < 2)
    throw new CliError(
      `found ${pairs.length} pairs, expected at least 2 (${values.pairs ? 'lines in --pairs' : 'Markdown sections with a heading and text'})`,
    );
  const settings = {
    epochs: integer('epochs', values.epochs, 1),
    learningRate: positive('learning-rate', values['learning-rate']),
    temperature: positive('temperature', values.temperature),
    vocabSize: integer('vocab-size', values['vocab-size'], 257),
    maxLength: integer('max-length', values['max-length'], 1),
    nLayer: integer('n-layer', values['n-layer'], 1),
    nHead: integer('n-head', values['n-head'], 1),
    nEmbd: integer('n-embd', values['n-embd'], 1),
    seed: integer('seed', values.seed, 0),
  };
  if (settings.nEmbd % settings.nHead !== 0)
    throw new CliError(
      `--n-embd ${settings.nEmbd}: expected a multiple of --n-head ${settings.nHead}`,
    );
  const backend = await chooseBackend(values.backend);
  const started = performance.now();
  const tokenizer = trainBpe(pairs.map((p) => `${p.query}\n${p.positive}`).join('\n'), {
    vocabSize: settings.vocabSize,
    name: 'llmkit-rag-embedder',
  });
  manualSeed(settings.seed);
  const model = new Encoder({
    vocabSize: tokenizer.vocabSize,
    blockSize: settings.maxLength,
    nLayer: settings.nLayer,
    nHead: settings.nHead,
    nEmbd: settings.nEmbd,
    typeVocabSize: 0,
    pooler: false,
  });
  if (!values.json)
    console.error(
      `training a ${model.parameterCount().toLocaleString()}-parameter encoder embedder on ${pairs.length} pairs (BPE vocabulary ${tokenizer.vocabSize}) with the ${backend} backend`,
    );
  const progress = createPhaseProgress(values.json!);
  const { losses } = await trainContrastive(model, pairs, {
    tokenizer,
    epochs: settings.epochs,
    batchSize: Math.min(batchSize, pairs.length),
    learningRate: settings.learningRate,
    temperature: settings.temperature,
    maxLength: settings.maxLength,
    seed: settings.seed,
    onProgress: ({ done, total }) => progress.update('train', done, total),
  });
  progress.finish();
  const out = resolve(values.out);
  const embedder = createEncoderEmbedder({ model, tokenizer, maxLength: settings.maxLength });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const window = Math.max(1, Math.min(10, Math.floor(losses.length / 4)));
  const summary = {
    pairs: pairs.length,
    steps: losses.length,
    first_loss: +mean(losses.slice(0, window)).toFixed(4),
    last_loss: +mean(losses.slice(-window)).toFixed(4),
    dimension: embedder.dimension,
    out,
    seconds: +((performance.now() - started) / 1000).toFixed(2),
  };
  await saveEncoderEmbedder(out, embedder, {
    notes: { pairs: pairs.length, steps: losses.length, ...settings, lastLoss: summary.last_loss },
  });
  if (values.json) console.log(JSON.stringify(summary));
  else
    console.error(
      `saved to ${out}: loss ${summary.first_loss} -> ${summary.last_loss} over ${summary.steps} steps; use it with llmkit rag index DIR --embedder-checkpoint ${values.out}`,
    );
  return summary;
}
