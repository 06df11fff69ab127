import { checkNumber, configError, rejectUnknownKeys } from '@llmkit/utils';
import { type SamplerConfig, samplerFields, validateSamplerConfig } from './config.js';
import { SamplingError } from './errors.js';
import type { LogitsProcessor } from './processors/types.js';
import { createSampler, type SamplerExtensions } from './sampler.js';
import { type StepFunction, splitStepResult } from './step.js';
import { beamSearch, eosList, type FinishReason } from './strategies/beam-search.js';
import { stopStringRule, type TokenDecoder } from './stopping.js';

/**
 * Options of {@link generate} and {@link streamTokens}: a {@link SamplerConfig} plus the
 * strategy and the stopping rules. A sequence stops at the first rule that fires.
 */
export interface GenerationConfig extends SamplerConfig {
  /** The most tokens generated per sequence, >= 1. Default 20 (Hugging Face's `max_length` default). */
  maxNewTokens?: number;
  /** EOS cannot be drawn before this many new tokens (Hugging Face's `min_new_tokens`). Default 0. */
  minNewTokens?: number;
  /** End-of-sequence id(s): generating one ends the sequence (it is kept in the output). */
  eosTokenId?: number | readonly number[];
  /** Stop when the generated text contains one of these; needs `tokenizer`. */
  stopStrings?: readonly string[];
  /** Decodes tokens for `stopStrings`: a function or an object with `decode` (a tokenizer). */
  tokenizer?: TokenDecoder;
  /** Aborting it ends every sequence with reason `aborted`, keeping what was generated. */
  signal?: AbortSignal;
  /** Beams per prompt; above 1 runs {@link beamSearch} (not with `doSample`). Default 1. */
  numBeams?: number;
  /** Beam search's length normalization exponent; see {@link BeamSearchOptions.lengthPenalty}. Default 1. */
  lengthPenalty?: number;
  /** Beam search's stopping rule; see {@link BeamSearchOptions.earlyStopping}. Default false. */
  earlyStopping?: boolean | 'never';
  /**
   * Sequences per prompt: the best beams with beam search (at most `numBeams`), independent draws
   * when sampling; must be 1 for greedy decoding. Default 1.
   */
  numReturnSequences?: number;
}

/** What {@link generate} returns; rows are prompt-major (`prompt * numReturnSequences + j`). */
export interface GenerationOutput {
  /** Prompt followed by the generated tokens, per row. */
  sequences: number[][];
  /** Why each row ended. */
  finishReasons: FinishReason[];
  /** Beam search only: each row's length-normalized score. */
  scores?: number[];
}

/** One token as {@link streamTokens} yields it. */
export interface TokenEvent {
  /** The output row it belongs to (see {@link GenerationOutput}). */
  row: number;
  /** The token id. */
  token: number;
  /** Its position among the row's generated tokens, from 0. */
  index: number;
  /** Set on the row's last token: why the row ended. */
  finishReason?: FinishReason;
}

interface ResolvedGeneration {
  maxNewTokens: number;
  minNewTokens: number;
  eos: number[];
  numBeams: number;
  numReturnSequences: number;
  isStopped?: (sequence: readonly number[], promptLength: number) => boolean;
}

// The fields GenerationConfig adds to SamplerConfig, with the defaults resolveGeneration applies
// (`undefined`: none, or beam search's own). The known option names are these keys and
// samplerFields'; `satisfies` keeps them in step with the interface.
const generationFields = {
  maxNewTokens: 20,
  minNewTokens: 0,
  eosTokenId: undefined,
  stopStrings: undefined,
  tokenizer: undefined,
  signal: undefined,
  numBeams: 1,
  lengthPenalty: undefined,
  earlyStopping: undefined,
  numReturnSequences: 1,
} satisfies { [K in Exclude<keyof GenerationConfig, keyof SamplerConfig>]-?: unknown };

function samplerPart(config: GenerationConfig): SamplerConfig {
  const part: Record<string, unknown> = {};
  for (const key of Object.keys(samplerFields)) {
    if ((config as Record<string, unknown>)[key] !== undefined) {
      part[key] = (config as Record<string, unknown>)[key];
    }
  }
  return part as SamplerConfig;
}

function resolveGeneration(config: GenerationConfig): ResolvedGeneration {
  const where = 'generate';
  if (typeof config !== 'object' || config === null)
    configError(where, 'config', config, 'an object');
  rejectUnknownKeys(config, { ...samplerFields, ...generationFields }, where);
  type Count = 'maxNewTokens' | 'minNewTokens' | 'numBeams' | 'numReturnSequences';
  const count = (field: Count, min: number) =>
    checkNumber(where, field, config[field] ?? generationFields[field], { min, integer: true });
  const maxNewTokens = count('maxNewTokens', 1);
  const minNewTokens = count('minNewTokens', 0);
  const numBeams = count('numBeams', 1);
  const numReturnSequences = count('numReturnSequences', 1);
  if (numBeams > 1 && config.doSample) {
    configError(
      where,
      'numBeams',
      numBeams,
      '1 when doSample is true (beam sampling is not supported)',
    );
  }
  if (numBeams > 1 && numReturnSequences > numBeams) {
    configError(where, 'numReturnSequences', numReturnSequences, `at most numBeams (${numBeams})`);
  }
  if (numBeams === 1 && !config.doSample && numReturnSequences !== 1) {
    configError(
      where,
      'numReturnSequences',
      numReturnSequences,
      '1 for greedy decoding (every copy would be identical)',
    );
  }
  if (config.stopStrings !== undefined && config.tokenizer === undefined) {
    configError(where, 'tokenizer', undefined, 'given when stopStrings are (to decode tokens)');
  }
  if (config.signal !== undefined && !(config.signal instanceof AbortSignal)) {
    configError(where, 'signal', config.signal, 'an AbortSignal');
  }
  return {
    maxNewTokens,
    minNewTokens,
    eos: eosList(config.eosTokenId, where),
    numBeams,
    numReturnSequences,
    isStopped:
      config.stopStrings && config.stopStrings.length > 0
        ? stopStringRule(config.stopStrings, config.tokenizer!)
        : undefined,
  };
}

/**
 * Checks a {@link GenerationConfig} without generating anything: every sampler and generation
 * option, each error a {@link SamplingError} `invalid_config` naming the field. A model can call
 * it before allocating its cache; {@link generate} and {@link streamTokens} call it too.
 *
 * @example
 * ```ts
 * validateGenerationConfig({ maxNewTokens: 20, numBeams: 4, numReturnSequences: 8 });
 * // throws: generate: numReturnSequences must be at most numBeams (4), got 8
 * ```
 */
export function validateGenerationConfig(config: GenerationConfig): void {
  resolveGeneration(config);
  validateSamplerConfig(samplerPart(config), 'generate');
}

function checkPrompts(prompts: readonly (readonly number[])[]): void {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw new SamplingError(
      'invalid_data',
      'generate: prompts must be a non-empty array of token id arrays',
    );
  }
  prompts.forEach((prompt, i) => {
    if (!Array.isArray(prompt) || prompt.some((id) => !Number.isInteger(id) || id < 0)) {
      throw new SamplingError(
        'invalid_data',
        `generate: prompts[${i}] must be an array of non-negative integer token ids`,
      );
    }
  });
}

/** Bans EOS while fewer than `minNewTokens` tokens were generated (the loop sets `generated`). */
class MinNewTokensProcessor implements LogitsProcessor {
  readonly name = 'min-new-tokens';
  generated = 0;
  constructor(
    private readonly minNewTokens: number,
    private readonly eos: readonly number[],
  ) {}
  process(scores: Float32Array): void {
    if (this.generated >= this.minNewTokens) return;
    for (const id of this.eos) if (id < scores.length) scores[id] = -Infinity;
  }
}

/**
 * Generates tokens for each prompt and yields them as they come (greedy decoding or sampling;
 * beam search cannot stream, its beams change until the end). Rows advance together: each step
 * call carries every unfinished row. Stops a row on EOS, `maxNewTokens`, a stop string or the
 * abort signal.
 *
 * @param step the model: sequences in, next-token logits out (see {@link StepFunction})
 * @param prompts token ids per prompt
 * @returns an async iterator of {@link TokenEvent}s; its return value is the {@link GenerationOutput}
 * @example
 * ```ts
 * for await (const { token } of streamTokens(step, [prompt], { maxNewTokens: 50, eosTokenId: 0 })) {
 *   process.stdout.write(tokenizer.decode([token]));
 * }
 * ```
 */
export async function* streamTokens(
  step: StepFunction,
  prompts: readonly (readonly number[])[],
  config: GenerationConfig = {},
  extensions: SamplerExtensions = {},
): AsyncGenerator<TokenEvent, GenerationOutput, undefined> {
  const generation = resolveGeneration(config);
  if (generation.numBeams > 1) {
    configError(
      'streamTokens',
      'numBeams',
      generation.numBeams,
      '1 (beam search cannot stream; use generate)',
    );
  }
  checkPrompts(prompts);
  const minNewTokens = new MinNewTokensProcessor(generation.minNewTokens, generation.eos);
  const sampler = createSampler(samplerPart(config), {
    ...extensions,
    processors: [
      ...(generation.minNewTokens > 0 ? [minNewTokens] : []),
      ...(extensions.processors ?? []),
    ],
  });
  const copies = generation.numReturnSequences;
  const sequences = prompts.flatMap((prompt) => Array.from({ length: copies }, () => [...prompt]));
  const promptOf = prompts.flatMap((_, i) => Array.from({ length: copies }, () => i));
  const finishReasons: (FinishReason | undefined)[] = sequences.map(() => undefined);
  const eos = new Set(generation.eos);
  let active = sequences.map((_, row) => row);
  let lastRowOf = new Map<number, number>(); // output row -> its row in the previous call
  for (let generated = 0; active.length > 0; generated++) {
    if (config.signal?.aborted) break;
    const context = {
      step: generated,
      parentRows: active.map((row) => (generated === 0 ? -1 : lastRowOf.get(row)!)),
      promptIndex: active.map((row) => promptOf[row]),
    };
    const result = await step(
      active.map((row) => sequences[row]),
      context,
    );
    if (config.signal?.aborted) break;
    const logits = splitStepResult(result, active.length, 'generate');
    minNewTokens.generated = generated;
    const stillActive: number[] = [];
    const rowsOfCall = new Map<number, number>();
    for (let i = 0; i < active.length; i++) {
      const row = active[i];
      const sequence = sequences[row];
      const token = sampler.sample(logits[i], sequence);
      sequence.push(token);
      const promptLength = sequence.length - generated - 1;
      const reason: FinishReason | undefined = eos.has(token)
        ? 'eos'
        : generation.isStopped?.(sequence, promptLength)
          ? 'stop_string'
          : generated + 1 >= generation.maxNewTokens
            ? 'length'
            : undefined;
      finishReasons[row] = reason;
      if (reason === undefined) {
        stillActive.push(row);
        rowsOfCall.set(row, i);
      }
      yield { row, token, index: generated, ...(reason ? { finishReason: reason } : {}) };
    }
    active = stillActive;
    lastRowOf = rowsOfCall;
  }
  for (const row of active) finishReasons[row] = 'aborted';
  return { sequences, finishReasons: finishReasons as FinishReason[] };
}

/**
 * Generates continuations of each prompt: greedy decoding (the default), sampling
 * (`doSample: true`) or beam search (`numBeams > 1`), with every rule of {@link GenerationConfig}.
 *
 * @param step the model: sequences in, next-token logits out (see {@link StepFunction})
 * @param prompts token ids per prompt
 * @example
 * ```ts
 * const { sequences } = await generate(step, [[1, 2, 3]], { maxNewTokens: 10, eosTokenId: 0 });
 * const beams = await generate(step, [[1, 2, 3]], { numBeams: 4, numReturnSequences: 2, maxNewTokens: 10 });
 * ```
 */
export async function generate(
  step: StepFunction,
  prompts: readonly (readonly number[])[],
  config: GenerationConfig = {},
  extensions: SamplerExtensions = {},
): Promise<GenerationOutput> {
  const generation = resolveGeneration(config);
  if (generation.numBeams === 1) {
    const stream = streamTokens(step, prompts, config, extensions);
    for (;;) {
      const next = await stream.next();
      if (next.done) return next.value;
    }
  }
  checkPrompts(prompts);
  const minNewTokens = new MinNewTokensProcessor(generation.minNewTokens, generation.eos);
  const sampler = createSampler(samplerPart(config), {
    ...extensions,
    processors: [
      ...(generation.minNewTokens > 0 ? [minNewTokens] : []),
      ...(extensions.processors ?? []),
    ],
  });
  const results = await beamSearch(
    (sequences, context) => {
      minNewTokens.generated = context.step;
      return step(sequences, context);
    },
    prompts,
    {
      numBeams: generation.numBeams,
      maxNewTokens: generation.maxNewTokens,
      eosTokenId: generation.eos,
      lengthPenalty: config.lengthPenalty,
      earlyStopping: config.earlyStopping,
      numReturnSequences: generation.numReturnSequences,
      processors: sampler.processors,
      isStopped: generation.isStopped,
      signal: config.signal,
    },
  );
  const rows = results.flat();
  return {
    sequences: rows.map((hypothesis) => hypothesis.tokens),
    finishReasons: rows.map((hypothesis) => hypothesis.finishReason),
    scores: rows.map((hypothesis) => hypothesis.score),
  };
}
