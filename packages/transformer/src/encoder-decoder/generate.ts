// Generation for the encoder-decoder: the sources are encoded once (right-padded and masked), each
// decoder layer's cross-attention keys and values are cached on the first step, and the decoder
// runs one token per row after that. Rows follow @llmkit/sampling's reordering (beams, finished rows).
import {
  type GenerationConfig,
  type GenerationOutput,
  generate as sample,
  type StepFunction,
  streamTokens,
  type TokenEvent,
} from '@llmkit/sampling';
import { configError } from '@llmkit/utils';
import { TransformerError } from '../errors.js';
import { KVCache } from '../kv-cache.js';
import { padRows } from '../masks.js';
import type { EncoderDecoder } from './model.js';

/** Options of `EncoderDecoder.generate`: @llmkit/sampling's options plus these. */
export interface Seq2SeqGenerateOptions extends GenerationConfig {
  /** The token the decoder starts from (BOS, or a language tag). Required. */
  decoderStartTokenId: number;
  /** Reuse self- and cross-attention keys and values (default true). */
  useCache?: boolean;
  /** Id used to pad sources (masked out). Default 0. */
  padTokenId?: number;
}

function prepare(
  model: EncoderDecoder,
  sources: readonly (readonly number[])[],
  options: Seq2SeqGenerateOptions,
) {
  const { decoderStartTokenId, useCache = true, padTokenId = 0, ...config } = options;
  const c = model.config;
  if (
    !Number.isInteger(decoderStartTokenId) ||
    decoderStartTokenId < 0 ||
    decoderStartTokenId >= c.targetVocabSize
  ) {
    configError(
      'generate',
      'decoderStartTokenId',
      decoderStartTokenId,
      `an id in [0, ${c.targetVocabSize})`,
    );
  }
  if (
    !Array.isArray(sources) ||
    sources.length === 0 ||
    sources.some((s) => !Array.isArray(s) || s.length === 0)
  ) {
    throw new TransformerError(
      'invalid_data',
      'generate: sourceIds must be non-empty rows of token ids',
    );
  }
  const longest = Math.max(...sources.map((s) => s.length));
  if (longest > c.blockSize) {
    throw new TransformerError(
      'prompt_too_long',
      `generate: a source of ${longest} tokens exceeds blockSize ${c.blockSize}`,
    );
  }
  const maxNewTokens = config.maxNewTokens ?? 20;
  if (maxNewTokens > c.blockSize) {
    throw new TransformerError(
      'prompt_too_long',
      `generate: maxNewTokens (${maxNewTokens}) exceeds blockSize ${c.blockSize}`,
    );
  }
  let cache: KVCache | undefined;
  const encodeRows = (promptIndex: readonly number[]) => {
    const { ids, mask } = padRows(
      promptIndex.map((i) => sources[i]),
      'right',
      padTokenId,
    );
    return model.encode(ids, { attentionMask: mask });
  };
  const step: StepFunction = async (sequences, context) => {
    const rows = sequences.map((row) => [...row]);
    if (!useCache) {
      const memory = encodeRows(context.promptIndex);
      try {
        return await model.nextTokenLogits(rows, memory);
      } finally {
        memory.hidden?.dispose();
      }
    }
    if (context.step === 0) {
      cache?.dispose();
      cache = new KVCache();
      const memory = encodeRows(context.promptIndex);
      cache.crossMask = memory.mask;
      try {
        return await model.nextTokenLogits(rows, memory, cache);
      } finally {
        memory.hidden?.dispose(); // the cross keys and values are cached now
      }
    }
    cache!.reorder(context.parentRows);
    const last = rows.map((row) => [row[row.length - 1]]);
    return model.nextTokenLogits(last, { hidden: null, mask: cache!.crossMask! }, cache);
  };
  const prompts = sources.map(() => [decoderStartTokenId]);
  return { config, step, prompts, release: () => cache?.dispose() };
}

/** Runs encoder-decoder generation to the end. */
export async function generateSeq2Seq(
  model: EncoderDecoder,
  sources: readonly (readonly number[])[],
  options: Seq2SeqGenerateOptions,
): Promise<GenerationOutput> {
  const { config, step, prompts, release } = prepare(model, sources, options);
  const wasTraining = model.training;
  model.train(false);
  try {
    return await sample(step, prompts, config);
  } finally {
    release();
    model.train(wasTraining);
  }
}

/** Streams encoder-decoder generation (greedy or sampling). */
export async function* streamSeq2Seq(
  model: EncoderDecoder,
  sources: readonly (readonly number[])[],
  options: Seq2SeqGenerateOptions,
): AsyncGenerator<TokenEvent, GenerationOutput, undefined> {
  const { config, step, prompts, release } = prepare(model, sources, options);
  const wasTraining = model.training;
  model.train(false);
  try {
    return yield* streamTokens(step, prompts, config);
  } finally {
    release();
    model.train(wasTraining);
  }
}
