// `llmkit rag ask "question"`: hybrid retrieval (BM25 + vectors when the store has them, fused by
// reciprocal rank) over a store built by `llmkit rag index`, then `answer()` with numbered, cited
// sources. The generator is an llmkit checkpoint (--checkpoint, the --out folder of `llmkit
// train`); without one the answer is extractive: the retrieved passages themselves, each cited.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { noGrad, tensor, tidy } from '@llmkit/core-tensor';
import {
  type AnswerResult,
  type AnswerTokenizer,
  answer,
  type Citation,
  createHybridRetriever,
  createPgliteStore,
  loadBm25Index,
} from '@llmkit/rag';
import { streamTokens } from '@llmkit/sampling';
import { getEncoding } from '@llmkit/tokenizer';
import { CliError } from '../cli-error.js';
import { chooseBackend } from './backend.js';
import { describeEmbedder, openEmbedder, readManifest, storePaths } from './rag-store.js';
import { loadRun } from './sample.js';

function integer(flag: string, value: string | undefined, minimum: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < minimum)
    throw new CliError(`--${flag} ${value}: expected an integer >= ${minimum}`);
  return n;
}

/** A generate function over a character-level checkpoint of `llmkit train` (greedy by default). */
async function checkpointGenerator(
  dir: string,
  options: { maxNewTokens: number; temperature?: number; seed: number },
) {
  const { model, tokenizer, blockSize } = await loadRun(dir);
  const generate = async (prompt: string) => {
    // characters the model never saw are dropped from the prompt
    const ids: number[] = [];
    for (const c of prompt) {
      try {
        ids.push(...tokenizer.encode(c));
      } catch {}
    }
    const step = async (rows: readonly (readonly number[])[]) => {
      const out: Float32Array[] = [];
      for (const row of rows) {
        const context = row.slice(-blockSize);
        const last = noGrad(() =>
          tidy(() => {
            const input = tensor(Int32Array.from(context), {
              shape: [1, context.length],
              dtype: 'int32',
            });
            const { logits } = model.forward(input, { lastOnly: true });
            return logits.reshape([logits.shape[2]]);
          }),
        );
        out.push((await last.data<Float32Array>()).slice());
        last.dispose();
      }
      return out;
    };
    let text = '';
    const config =
      options.temperature === undefined
        ? { maxNewTokens: options.maxNewTokens }
        : {
            maxNewTokens: options.maxNewTokens,
            doSample: true,
            temperature: options.temperature,
            seed: options.seed,
          };
    for await (const event of streamTokens(step, [ids.length > 0 ? ids : [0]], config))
      text += tokenizer.decode([event.token]);
    return text;
  };
  return { generate, blockSize };
}

/** Characters as tokens: the budget of a character-level model. */
const characterCounter: AnswerTokenizer = { encode: (text) => Array.from(text, () => 0) };

/** `llmkit rag ask "question"`: returns what it printed as JSON. */
export async function ragAsk(args: string[]): Promise<Record<string, unknown>> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      store: { type: 'string' },
      k: { type: 'string', default: '4' },
      checkpoint: { type: 'string' },
      'max-context-tokens': { type: 'string' },
      'max-new-tokens': { type: 'string', default: '200' },
      temperature: { type: 'string' },
      seed: { type: 'string', default: '1337' },
      json: { type: 'boolean', default: false },
      backend: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || positionals[0].trim() === '')
    throw new CliError('expected one question in quotes; usage: llmkit rag ask "question"');
  const question = positionals[0];
  const k = integer('k', values.k, 1);
  const paths = storePaths(values.store);
  const manifest = readManifest(paths.manifest);
  if (!manifest || !existsSync(paths.bm25))
    throw new CliError(
      `--store ${paths.root}: no index here; build one with llmkit rag index DIR${values.store ? ` --store ${values.store}` : ''}`,
    );
  const backend = () => chooseBackend(values.backend);
  const embedder = manifest.embedder
    ? await openEmbedder(
        manifest.embedder,
        backend,
        `the store's embedder ${describeEmbedder(manifest.embedder)}`,
      )
    : undefined;
  const generator = values.checkpoint
    ? await (async () => {
        await backend();
        return checkpointGenerator(resolve(values.checkpoint!), {
          maxNewTokens: integer('max-new-tokens', values['max-new-tokens'], 1),
          temperature: values.temperature === undefined ? undefined : Number(values.temperature),
          seed: integer('seed', values.seed, 0),
        });
      })()
    : undefined;
  const maxContextTokens =
    values['max-context-tokens'] !== undefined
      ? integer('max-context-tokens', values['max-context-tokens'], 1)
      : generator
        ? Math.max(64, generator.blockSize - question.length - 64)
        : 1000;
  const store = await createPgliteStore({
    dataDir: paths.database,
    dimension: manifest.embedder?.dimension ?? 1,
    indexing: 'deferred',
  });
  let result: AnswerResult;
  try {
    const bm25 = await loadBm25Index(paths.bm25);
    const retriever = createHybridRetriever({ store, bm25, embedder, k });
    // extractive mode: the answer is filled in below from the sources that fit the budget
    const extractive = async () => '';
    result = await answer(question, {
      retriever,
      k,
      tokenizer: generator ? characterCounter : getEncoding('cl100k_base'),
      maxContextTokens,
      generate: generator ? (prompt) => generator.generate(prompt) : extractive,
    });
  } finally {
    await store.close();
  }
  const mode = generator ? 'generated' : 'extractive';
  if (!generator) {
    // the extractive answer cites every passage that fit the budget, in rank order
    result.answer = result.sources.map((s) => `[${s.number}] ${s.text}`).join('\n\n');
    result.citations = result.sources;
  }
  const describe = (c: Citation) => ({
    number: c.number,
    sourceId: c.sourceId,
    start: c.start,
    end: c.end,
    score: c.score,
    truncated: c.truncated,
    text: c.text,
  });
  const output = {
    question,
    mode,
    retrieval: embedder ? 'hybrid' : 'bm25',
    embedder: describeEmbedder(manifest.embedder),
    answer: result.answer,
    citations: result.citations.map(describe),
    sources: result.sources.map(describe),
  };
  if (values.json) {
    console.log(JSON.stringify(output));
    return output;
  }
  const notices = [
    embedder ? '' : 'retrieval: BM25 only (the store was indexed without an embedder)',
    generator
      ? `answer generated by ${values.checkpoint}; a small character model rarely cites, so every source it was given is listed`
      : 'no --checkpoint: extractive answer (the retrieved passages themselves, each cited); pass --checkpoint DIR to generate one',
  ].filter(Boolean);
  for (const notice of notices) console.error(notice);
  if (result.sources.length === 0) {
    console.log('No passage in the store matches the question.');
    return output;
  }
  console.log(generator ? `Answer:\n${result.answer}\n` : 'Answer (extractive):');
  if (!generator) console.log(`${result.answer}\n`);
  console.log('Sources:');
  const cited = new Set(result.citations.map((c) => c.number));
  for (const s of result.sources) {
    const mark = generator && cited.has(s.number) ? ' (cited)' : '';
    console.log(
      `[${s.number}] ${s.sourceId}, characters ${s.start}-${s.end}${s.truncated ? ' (cut to fit)' : ''}${mark}`,
    );
  }
  return output;
}
