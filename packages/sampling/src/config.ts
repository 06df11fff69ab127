import { checkNumber, configError, type NumberRange, rejectUnknownKeys } from '@llmkit/utils';
import { SamplingError } from './errors.js';

/**
 * How to turn logits into the next token. Every field is optional; the defaults give greedy
 * decoding, as Hugging Face's `generate` does. The processors run in Hugging Face's order:
 * `logitBias`, `repetitionPenalty`, `frequencyPenalty`/`presencePenalty`, `noRepeatNgramSize`;
 * then, only when sampling, the warpers `temperature`, `topK`, `topP`, `minP`, `typicalP`.
 */
export interface SamplerConfig {
  /**
   * Draw the next token from the warped distribution (`true`) or take the most likely one
   * (`false`, greedy). Default `false`, as in Hugging Face; the warpers (`temperature`, `topK`,
   * `topP`, `minP`, `typicalP`) only apply when sampling, so setting one of them while `doSample`
   * is `false` is an error rather than a silent no-op.
   */
  doSample?: boolean;
  /**
   * Divide the logits by this before the other warpers: below 1 sharpens, above 1 flattens.
   * Default 1. `0` means greedy decoding (as in OpenAI's API; Hugging Face rejects 0 instead).
   */
  temperature?: number;
  /**
   * Keep only the `topK` highest-scoring tokens (all tokens tied with the `topK`-th are kept, as
   * in Hugging Face). Default 0, off; note that Hugging Face's `GenerationConfig` defaults to 50.
   */
  topK?: number;
  /**
   * Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches
   * `topP` (at least one token). In [0, 1]; default 1, off.
   */
  topP?: number;
  /**
   * Keep tokens whose probability is at least `minP` times the top token's probability.
   * In [0, 1]; default 0, off.
   */
  minP?: number;
  /**
   * Typical sampling (Meister et al., 2022): keep the tokens whose surprisal is closest to the
   * entropy until their mass reaches `typicalP`. In (0, 1]; default 1, off.
   */
  typicalP?: number;
  /**
   * Keskar et al. (2019) repetition penalty on every token in `previousTokens`: positive logits are
   * divided by it and negative ones multiplied, once per distinct token. Above 1 discourages
   * repeats. Positive; default 1, off.
   */
  repetitionPenalty?: number;
  /**
   * OpenAI-style frequency penalty: subtract `frequencyPenalty * count` from each previous token's
   * logit (not in Hugging Face; applied right after `repetitionPenalty`). Default 0, off.
   */
  frequencyPenalty?: number;
  /**
   * OpenAI-style presence penalty: subtract it once from the logit of every token that occurs in
   * `previousTokens`. Default 0, off.
   */
  presencePenalty?: number;
  /**
   * Forbid any n-gram of this size from occurring twice in `previousTokens` plus the next token
   * (Hugging Face's `no_repeat_ngram_size`). Default 0, off.
   */
  noRepeatNgramSize?: number;
  /**
   * Added to the logits of the given token ids before anything else (Hugging Face's
   * `sequence_bias` for one-token sequences, OpenAI's `logit_bias`). `-Infinity` bans a token.
   */
  logitBias?: Readonly<Record<number, number>> | ReadonlyMap<number, number>;
  /**
   * Seed of the sampler's own xoshiro128** generator: the same seed, logits and previous tokens
   * give the same draws on every platform. Default: a random seed.
   */
  seed?: number;
}

/** A {@link SamplerConfig} with every default filled in. */
export interface ResolvedSamplerConfig {
  /** See {@link SamplerConfig.doSample}. */
  doSample: boolean;
  /** See {@link SamplerConfig.temperature}. */
  temperature: number;
  /** See {@link SamplerConfig.topK}. */
  topK: number;
  /** See {@link SamplerConfig.topP}. */
  topP: number;
  /** See {@link SamplerConfig.minP}. */
  minP: number;
  /** See {@link SamplerConfig.typicalP}. */
  typicalP: number;
  /** See {@link SamplerConfig.repetitionPenalty}. */
  repetitionPenalty: number;
  /** See {@link SamplerConfig.frequencyPenalty}. */
  frequencyPenalty: number;
  /** See {@link SamplerConfig.presencePenalty}. */
  presencePenalty: number;
  /** See {@link SamplerConfig.noRepeatNgramSize}. */
  noRepeatNgramSize: number;
  /** See {@link SamplerConfig.logitBias}; as a map, empty when unset. */
  logitBias: ReadonlyMap<number, number>;
  /** See {@link SamplerConfig.seed}; drawn at random when unset. */
  seed: number;
}

/** The defaults of {@link SamplerConfig}, except `seed` (random) and `logitBias` (none). */
export const samplerDefaults = {
  doSample: false,
  temperature: 1,
  topK: 0,
  topP: 1,
  minP: 0,
  typicalP: 1,
  repetitionPenalty: 1,
  frequencyPenalty: 0,
  presencePenalty: 0,
  noRepeatNgramSize: 0,
} as const;

/**
 * Every {@link SamplerConfig} field with its default (`undefined` for `logitBias`, none, and
 * `seed`, random): the known option names are its keys, and `satisfies` makes the compiler reject
 * a field of SamplerConfig missing here.
 */
export const samplerFields = {
  ...samplerDefaults,
  logitBias: undefined,
  seed: undefined,
} satisfies { [K in keyof Required<SamplerConfig>]: unknown };

/**
 * Checks a {@link SamplerConfig} before any work starts and fills in the defaults. Each error is an
 * `LlmkitError` (from @llmkit/utils' validators; a {@link SamplingError} for the rules only
 * sampling has) with code `invalid_config` whose message names the field, the bad value and what
 * was expected.
 *
 * @example
 * ```ts
 * validateSamplerConfig({ doSample: true, topP: 0.9 }).topK; // 0
 * validateSamplerConfig({ topK: -1 }); // throws: sampler: topK must be an integer >= 0, got -1
 * ```
 */
export function validateSamplerConfig(
  config: SamplerConfig = {},
  where = 'sampler',
): ResolvedSamplerConfig {
  if (typeof config !== 'object' || config === null) {
    configError(where, 'config', config, 'an object');
  }
  rejectUnknownKeys(config, samplerFields, where);
  const doSample = config.doSample ?? samplerDefaults.doSample;
  if (typeof doSample !== 'boolean') configError(where, 'doSample', doSample, 'a boolean');
  const number = (field: keyof typeof samplerDefaults, range: NumberRange) =>
    checkNumber(where, field, config[field] ?? samplerDefaults[field], range);
  const resolved: ResolvedSamplerConfig = {
    doSample,
    temperature: number('temperature', { min: 0 }),
    topK: number('topK', { min: 0, integer: true }),
    topP: number('topP', { min: 0, max: 1 }),
    minP: number('minP', { min: 0, max: 1 }),
    typicalP: number('typicalP', { min: 0, max: 1, minExclusive: true }),
    repetitionPenalty: number('repetitionPenalty', { min: 0, minExclusive: true }),
    frequencyPenalty: number('frequencyPenalty', {}),
    presencePenalty: number('presencePenalty', {}),
    noRepeatNgramSize: number('noRepeatNgramSize', { min: 0, integer: true }),
    logitBias: resolveLogitBias(config.logitBias, where),
    seed:
      config.seed === undefined
        ? Math.floor(Math.random() * 4294967296)
        : checkNumber(where, 'seed', config.seed, { integer: true }),
  };
  if (!doSample) {
    // Hugging Face warns and ignores these when do_sample is False; a silent no-op hides mistakes.
    const ignored: [keyof typeof samplerDefaults, boolean][] = [
      ['temperature', resolved.temperature !== 1 && resolved.temperature !== 0],
      ['topK', resolved.topK !== 0],
      ['topP', resolved.topP !== 1],
      ['minP', resolved.minP !== 0],
      ['typicalP', resolved.typicalP !== 1],
    ];
    for (const [field, set] of ignored) {
      if (set) {
        throw new SamplingError(
          'invalid_config',
          `${where}: ${field} (${resolved[field]}) only applies when sampling; set doSample: true, or remove ${field} for greedy decoding`,
        );
      }
    }
  }
  return resolved;
}

function resolveLogitBias(
  bias: SamplerConfig['logitBias'],
  where: string,
): ReadonlyMap<number, number> {
  if (bias === undefined) return new Map();
  if (typeof bias !== 'object' || bias === null) {
    configError(where, 'logitBias', bias, 'an object or Map from token id to bias');
  }
  const entries: [number | string, unknown][] =
    bias instanceof Map ? [...bias.entries()] : Object.entries(bias);
  const map = new Map<number, number>();
  for (const [key, value] of entries) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0) {
      configError(where, 'logitBias', key, 'keyed by non-negative integer token ids');
    }
    if (typeof value !== 'number' || Number.isNaN(value) || value === Infinity) {
      configError(where, `logitBias[${id}]`, value, 'a number (or -Infinity to ban the token)');
    }
    map.set(id, value);
  }
  return map;
}
