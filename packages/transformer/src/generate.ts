// Generation for the decoder models: @llmkit/sampling's loop (greedy, sampling, beam search,
// stopping rules) drives a step function that runs the model with a KV cache. Prompts of different
// lengths are left-padded so that every row's next token comes from the last column; the padding
// is masked out and position ids count real tokens only, so a padded row gets the same tokens as it
// would alone.
import {
  type GenerationConfig,
  type GenerationOutput,
  generate as sample,
  type StepFunction,
  streamTokens,
  type TokenEvent,
} from '@llmkit/sampling';
import { TransformerError } from './errors.js';
import { KVCache } from './kv-cache.js';
import { padRows } from './masks.js';

/** Options of `generate` / `stream`: @llmkit/sampling's {@link GenerationConfig} plus these. */
export interface GenerateOptions extends GenerationConfig {
  /**
   * What to do with a sequence longer than `blockSize`: `error` (the default) rejects a prompt
   * that, with `maxNewTokens`, would not fit; `left` keeps the last `blockSize` tokens (the model
   * then recomputes its window at each step, as nanoGPT's `generate` does).
   */
  truncation?: 'error' | 'left';
  /** Reuse keys and values of earlier positions (default true). `false` recomputes every step. */
  useCache?: boolean;
  /** Id used for padding (any valid id: padded positions are masked). Default 0. */
  padTokenId?: number;
}

/** What generation needs from a model. */
export interface CausalDecoder {
  /** Sizes of the model. */
  readonly config: { readonly blockSize: number; readonly vocabSize: number };
  /** Training mode flag (generation runs in eval mode and restores it). */
  training: boolean;
  /** Sets training mode. */
  train(mode?: boolean): unknown;
  /** Last-position logits of each row, `[B * vocabSize]`. */
  nextTokenLogits(ids: number[][], mask: number[][], cache?: KVCache): Promise<Float32Array>;
}

function splitOptions(options: GenerateOptions): {
  config: GenerationConfig;
  truncation: 'error' | 'left';
  useCache: boolean;
  padTokenId: number;
} {
  const { truncation = 'error', useCache = true, padTokenId = 0, ...config } = options;
  if (truncation !== 'error' && truncation !== 'left') {
    throw new TransformerError(
      'invalid_config',
      `generate: truncation must be 'error' or 'left', got ${JSON.stringify(truncation)}`,
    );
  }
  return { config, truncation, useCache, padTokenId };
}

/** Checks prompt lengths against `blockSize` before any work. */
export function checkPromptLengths(
  prompts: readonly (readonly number[])[],
  blockSize: number,
  maxNewTokens: number,
  truncation: 'error' | 'left',
): void {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw new TransformerError(
      'invalid_data',
      'generate: inputIds must be a non-empty array of token id rows',
    );
  }
  prompts.forEach((prompt, i) => {
    if (!Array.isArray(prompt) || prompt.length === 0) {
      throw new TransformerError(
        'invalid_data',
        `generate: inputIds[${i}] must be a non-empty array of token ids`,
      );
    }
    if (truncation === 'error' && prompt.length > blockSize) {
      throw new TransformerError(
        'prompt_too_long',
        `generate: prompt ${i} has ${prompt.length} tokens, more than blockSize ${blockSize}; pass truncation: 'left' to keep the last ${blockSize}`,
      );
    }
  });
  const longest = Math.max(...prompts.map((p) => p.length));
  if (truncation === 'error' && longest + maxNewTokens - 1 > blockSize) {
    throw new TransformerError(
      'prompt_too_long',
      `generate: the longest prompt (${longest} tokens) plus maxNewTokens (${maxNewTokens}) exceeds blockSize ${blockSize} (+1); lower maxNewTokens or pass truncation: 'left'`,
    );
  }
}

/**
 * The step function for @llmkit/sampling: the first call prefills a fresh cache with the
 * left-padded prompts; later calls reorder the cache as the loop asks (finished rows dropped, beams
 * duplicated) and feed one token per row. Once a row would pass `blockSize` (only with truncation
 * 'left'), every step recomputes the last `blockSize` tokens without the cache.
 */
export function decoderStep(
  model: CausalDecoder,
  useCache: boolean,
  padTokenId: number,
): { step: StepFunction; release: () => void } {
  const blockSize = model.config.blockSize;
  let cache: KVCache | undefined;
  const window = (row: readonly number[]) =>
    row.length > blockSize ? row.slice(row.length - blockSize) : row;
  const recompute = (sequences: readonly (readonly number[])[], into?: KVCache) => {
    const { ids, mask } = padRows(sequences.map(window), 'left', padTokenId);
    return model.nextTokenLogits(ids, mask, into);
  };
  const step: StepFunction = (sequences, context) => {
    if (!useCache) return recompute(sequences);
    if (context.step === 0) {
      cache?.dispose();
      cache = new KVCache();
      return recompute(sequences, cache);
    }
    if (!cache) return recompute(sequences);
    cache.reorder(context.parentRows);
    if (cache.length + 1 > blockSize) {
      cache.dispose();
      cache = undefined;
      return recompute(sequences);
    }
    const last = sequences.map((row) => [row[row.length - 1]]);
    return model.nextTokenLogits(
      last,
      last.map(() => [1]),
      cache,
    );
  };
  return { step, release: () => cache?.dispose() };
}

/** Runs generation to the end (greedy, sampling or beam search). */
export async function generateTokens(
  model: CausalDecoder,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
): Promise<GenerationOutput> {
  const { config, truncation, useCache, padTokenId } = splitOptions(options);
  checkPromptLengths(prompts, model.config.blockSize, config.maxNewTokens ?? 20, truncation);
  const { step, release } = decoderStep(model, useCache, padTokenId);
  const wasTraining = model.training;
  model.train(false);
  try {
    return await sample(step, prompts, config);
  } finally {
    release();
    model.train(wasTraining);
  }
}

/** Streams generated tokens (greedy or sampling). */
export async function* streamGeneratedTokens(
  model: CausalDecoder,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
): AsyncGenerator<TokenEvent, GenerationOutput, undefined> {
  const { config, truncation, useCache, padTokenId } = splitOptions(options);
  checkPromptLengths(prompts, model.config.blockSize, config.maxNewTokens ?? 20, truncation);
  const { step, release } = decoderStep(model, useCache, padTokenId);
  const wasTraining = model.training;
  model.train(false);
  try {
    return yield* streamTokens(step, prompts, config);
  } finally {
    release();
    model.train(wasTraining);
  }
}
