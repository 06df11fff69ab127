// Encoder (BERT-style) configuration, validated before any allocation.
import { checkBoolean, checkChoice, checkInteger, checkRange, configError } from '../errors.js';
import type { Activation } from '../gpt/config.js';

/** Configuration of an {@link Encoder} (bidirectional, BERT-style). */
export interface EncoderConfig {
  /** Number of token ids (BERT base: 30,522). */
  vocabSize: number;
  /** Most positions per sequence (BERT: 512). */
  blockSize: number;
  /** Number of layers (BERT base: 12). */
  nLayer: number;
  /** Attention heads (BERT base: 12). */
  nHead: number;
  /** Hidden width, divisible by `nHead` (BERT base: 768). */
  nEmbd: number;
  /** MLP width. Default 4 * nEmbd (BERT's ratio). */
  intermediateSize?: number;
  /** Token type (segment) vocabulary; 0 for none. Default 2 (BERT's sentence A / B). */
  typeVocabSize?: number;
  /** Dropout while training. Default 0 (BERT pretraining used 0.1). */
  dropout?: number;
  /** MLP activation. Default `gelu` (exact, as BERT). */
  activation?: Activation;
  /** LayerNorm epsilon. Default 1e-12 (BERT's). */
  normEpsilon?: number;
  /** Add the pooler (dense + tanh on the first token) for sentence-level heads. Default true. */
  pooler?: boolean;
}

/** An {@link EncoderConfig} with every default filled in. */
export type ResolvedEncoderConfig = Required<EncoderConfig>;

/** Fills in defaults and checks each field, naming the bad one; allocates nothing. */
export function resolveEncoderConfig(
  config: EncoderConfig,
  where = 'Encoder config',
): ResolvedEncoderConfig {
  if (typeof config !== 'object' || config === null)
    configError(where, 'config', config, 'an object');
  const nEmbd = checkInteger(where, 'nEmbd', config.nEmbd);
  const nHead = checkInteger(where, 'nHead', config.nHead);
  if (nEmbd % nHead !== 0) configError(where, 'nEmbd', nEmbd, `divisible by nHead (${nHead})`);
  const normEpsilon = checkRange(where, 'normEpsilon', config.normEpsilon ?? 1e-12, 0, 1);
  if (normEpsilon <= 0) configError(where, 'normEpsilon', normEpsilon, 'positive');
  return {
    vocabSize: checkInteger(where, 'vocabSize', config.vocabSize),
    blockSize: checkInteger(where, 'blockSize', config.blockSize),
    nLayer: checkInteger(where, 'nLayer', config.nLayer),
    nHead,
    nEmbd,
    intermediateSize: checkInteger(where, 'intermediateSize', config.intermediateSize ?? 4 * nEmbd),
    typeVocabSize: checkInteger(where, 'typeVocabSize', config.typeVocabSize ?? 2, 0),
    dropout: checkRange(where, 'dropout', config.dropout ?? 0, 0, 1),
    activation: checkChoice(where, 'activation', config.activation ?? 'gelu', [
      'gelu-tanh',
      'gelu',
      'relu',
      'silu',
    ]),
    normEpsilon,
    pooler: checkBoolean(where, 'pooler', config.pooler ?? true),
  };
}
