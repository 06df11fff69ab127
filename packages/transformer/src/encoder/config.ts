// Encoder (BERT-style) configuration, validated before any allocation.
import { checkBoolean, checkChoice, checkNumber, configError } from '@llmkit/utils';
import { EPSILON, FRACTION, SIZE } from '../errors.js';
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
  const nEmbd = checkNumber(where, 'nEmbd', config.nEmbd, SIZE);
  const nHead = checkNumber(where, 'nHead', config.nHead, SIZE);
  if (nEmbd % nHead !== 0) configError(where, 'nEmbd', nEmbd, `divisible by nHead (${nHead})`);
  const normEpsilon = checkNumber(where, 'normEpsilon', config.normEpsilon ?? 1e-12, EPSILON);
  return {
    vocabSize: checkNumber(where, 'vocabSize', config.vocabSize, SIZE),
    blockSize: checkNumber(where, 'blockSize', config.blockSize, SIZE),
    nLayer: checkNumber(where, 'nLayer', config.nLayer, SIZE),
    nHead,
    nEmbd,
    intermediateSize: checkNumber(
      where,
      'intermediateSize',
      config.intermediateSize ?? 4 * nEmbd,
      SIZE,
    ),
    typeVocabSize: checkNumber(where, 'typeVocabSize', config.typeVocabSize ?? 2, {
      min: 0,
      integer: true,
    }),
    dropout: checkNumber(where, 'dropout', config.dropout ?? 0, FRACTION),
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
