// `llmkit rag ask "question"`: hybrid retrieval (BM25 + vectors when the store has them, fused by
// reciprocal rank) over a store built by `llmkit rag index`, then `answer()` with numbered, cited
// sources. The answer is written by an llmkit checkpoint (--checkpoint) or an OpenAI-compatible
// server (--generator); without either it is extractive: the retrieved passages, each cited.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type AnswerResult,
  answer,
  type Citation,
  createHybridRetriever,
  createPgliteStore,
  loadBm25Index,
} from '@llmkit/rag';
import { getEncoding } from '@llmkit/tokenizer';
import { CliError } from '../../cli-error.js';
import { chooseBackend } from '../../backend.js';
import { checkpointGenerator, type Generator, httpGenerator } from '../../rag/generators.js';
import { describeEmbedder, openEmbedder, readManifest, storePaths } from '../../rag/store.js';

function integer(flag: string, value: string | undefined, minimum: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < minimum)
    throw new CliError(`--${flag} ${value}: expected an integer >= ${minimum}`);
  return n;
}

/** `llmkit rag ask "question"`: returns what it printed as JSON. */
export async function ragAsk(args: string[]): Promise<Record<string, unknown>> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      store: { type: 'string' },
      k: { type: 'string', default: '4' },
      checkpoint: { type: 'string' },
      generator: { type: 'string' },
      'generator-model': { type: 'string' },
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
  if (values.checkpoint && values.generator)
    throw new CliError('give --checkpoint DIR or --generator URL, not both');
  if (values.generator && !values['generator-model'])
    throw new CliError('--generator URL needs --generator-model NAME (the model the server runs)');
  const maxNewTokens = integer('max-new-tokens', values['max-new-tokens'], 1);
  const temperature = values.temperature === undefined ? undefined : Number(values.temperature);
  if (temperature !== undefined && !(temperature >= 0))
    throw new CliError(`--temperature ${values.temperature}: expected a number >= 0`);
  let generator: Generator | undefined;
  if (values.checkpoint) {
    await backend();
    generator = await checkpointGenerator(resolve(values.checkpoint), {
      maxNewTokens,
      temperature,
      seed: integer('seed', values.seed, 0),
      questionLength: question.length,
    });
  } else if (values.generator) {
    generator = httpGenerator({
      baseUrl: values.generator,
      model: values['generator-model']!,
      maxNewTokens,
      temperature,
    });
  }
  const maxContextTokens =
    values['max-context-tokens'] !== undefined
      ? integer('max-context-tokens', values['max-context-tokens'], 1)
      : (generator?.maxContextTokens ?? 1000);
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
      tokenizer: generator?.tokenizer ?? getEncoding('cl100k_base'),
      maxContextTokens,
      generate: generator?.generate ?? extractive,
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
      ? `answer written by ${generator.description}`
      : 'no --checkpoint or --generator: extractive answer (the retrieved passages themselves, each cited); pass --checkpoint DIR or --generator URL to generate one',
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
