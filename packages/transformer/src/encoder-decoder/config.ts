// Encoder-decoder configuration (the original Transformer's shape), validated before allocation.
import { checkBoolean, checkChoice, checkNumber, configError } from '@llmkit/utils';
import { EPSILON, FRACTION, SIZE } from '../errors.js';
import type { Activation } from '../gpt/config.js';

/** Configuration of an {@link EncoderDecoder}. */
export interface EncoderDecoderConfig {
  /** Source vocabulary (and target vocabulary unless `targetVocabSize` is given). */
  vocabSize: number;
  /** Target vocabulary. Default `vocabSize`; must equal it when `shareEmbeddings`. */
  targetVocabSize?: number;
  /** Most positions of a source or target sequence. */
  blockSize: number;
  /** Encoder layers (Vaswani et al. base: 6). */
  nEncoderLayer: number;
  /** Decoder layers (base: 6). */
  nDecoderLayer: number;
  /** Attention heads (base: 8). */
  nHead: number;
  /** Model width, divisible by `nHead` (base: 512). */
  nEmbd: number;
  /** MLP width. Default 4 * nEmbd (base: 2048). */
  intermediateSize?: number;
  /** Dropout while training. Default 0 (the paper used 0.1). */
  dropout?: number;
  /** MLP activation. Default `relu`, as in the paper. */
  activation?: Activation;
  /** `sinusoidal` fixed encodings (the paper; default) or `learned` position embeddings. */
  positionEncoding?: 'sinusoidal' | 'learned';
  /** One embedding table for source and target tokens. Default true (needs equal vocabularies). */
  shareEmbeddings?: boolean;
  /** The output head reuses the target embedding. Default true (the paper shares all three). */
  tieWordEmbeddings?: boolean;
  /** Multiply token embeddings by sqrt(nEmbd) before adding positions. Default true (the paper). */
  scaleEmbeddings?: boolean;
  /** LayerNorm epsilon. Default 1e-5. */
  normEpsilon?: number;
}

/** An {@link EncoderDecoderConfig} with every default filled in. */
export type ResolvedEncoderDecoderConfig = Required<EncoderDecoderConfig>;

/** Fills in defaults and checks each field, naming the bad one; allocates nothing. */
export function resolveEncoderDecoderConfig(
  config: EncoderDecoderConfig,
  where = 'EncoderDecoder config',
): ResolvedEncoderDecoderConfig {
  if (typeof config !== 'object' || config === null)
    configError(where, 'config', config, 'an object');
  const vocabSize = checkNumber(where, 'vocabSize', config.vocabSize, SIZE);
  const targetVocabSize = checkNumber(
    where,
    'targetVocabSize',
    config.targetVocabSize ?? vocabSize,
    SIZE,
  );
  const shareEmbeddings = checkBoolean(where, 'shareEmbeddings', config.shareEmbeddings ?? true);
  if (shareEmbeddings && targetVocabSize !== vocabSize) {
    configError(
      where,
      'targetVocabSize',
      targetVocabSize,
      `equal to vocabSize (${vocabSize}) when shareEmbeddings is true`,
    );
  }
  const nEmbd = checkNumber(where, 'nEmbd', config.nEmbd, SIZE);
  const nHead = checkNumber(where, 'nHead', config.nHead, SIZE);
  if (nEmbd % nHead !== 0) configError(where, 'nEmbd', nEmbd, `divisible by nHead (${nHead})`);
  const positionEncoding = checkChoice(
    where,
    'positionEncoding',
    config.positionEncoding ?? 'sinusoidal',
    ['sinusoidal', 'learned'],
  );
  if (positionEncoding === 'sinusoidal' && nEmbd % 2 !== 0)
    configError(where, 'nEmbd', nEmbd, 'even for sinusoidal positions');
  const normEpsilon = checkNumber(where, 'normEpsilon', config.normEpsilon ?? 1e-5, EPSILON);
  return {
    vocabSize,
    targetVocabSize,
    blockSize: checkNumber(where, 'blockSize', config.blockSize, SIZE),
    nEncoderLayer: checkNumber(where, 'nEncoderLayer', config.nEncoderLayer, SIZE),
    nDecoderLayer: checkNumber(where, 'nDecoderLayer', config.nDecoderLayer, SIZE),
    nHead,
    nEmbd,
    intermediateSize: checkNumber(
      where,
      'intermediateSize',
      config.intermediateSize ?? 4 * nEmbd,
      SIZE,
    ),
    dropout: checkNumber(where, 'dropout', config.dropout ?? 0, FRACTION),
    activation: checkChoice(where, 'activation', config.activation ?? 'relu', [
      'gelu-tanh',
      'gelu',
      'relu',
      'silu',
    ]),
    positionEncoding,
    shareEmbeddings,
    tieWordEmbeddings: checkBoolean(where, 'tieWordEmbeddings', config.tieWordEmbeddings ?? true),
    scaleEmbeddings: checkBoolean(where, 'scaleEmbeddings', config.scaleEmbeddings ?? true),
    normEpsilon,
  };
}
