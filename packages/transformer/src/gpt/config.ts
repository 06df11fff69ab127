// GPT configuration: GPT-2 semantics by default, LLaMA-style options beside them. Validated before
// anything is allocated, so a bad field fails in microseconds with its name in the message.
import { checkBoolean, checkChoice, checkInteger, checkRange, configError } from '../errors.js';

/** Activation of the GELU-style MLP. */
export type Activation = 'gelu-tanh' | 'gelu' | 'relu' | 'silu';

/** Configuration of a {@link GPT} (decoder-only transformer). */
export interface GPTConfig {
  /** Number of token ids (GPT-2: 50,257). */
  vocabSize: number;
  /** The longest sequence the model sees, prompt plus generated tokens (GPT-2: 1,024). */
  blockSize: number;
  /** Number of transformer blocks (GPT-2 small: 12). */
  nLayer: number;
  /** Number of attention (query) heads (GPT-2 small: 12). */
  nHead: number;
  /** Width of the residual stream; divisible by `nHead` (GPT-2 small: 768). */
  nEmbd: number;
  /** Dropout on embeddings, attention weights and residual branches while training. Default 0 (as nanoGPT pretraining; 0.1 helps when finetuning small data). */
  dropout?: number;
  /** Biases in linear layers and LayerNorms. Default true (GPT-2); LLaMA uses false. */
  bias?: boolean;
  /** Key/value heads for grouped-query attention; divides `nHead`. Default `nHead` (plain multi-head attention). */
  nKvHead?: number;
  /** `learned` absolute positions (`wpe`, GPT-2; the default) or rotary embeddings (`rope`, LLaMA). */
  positionEncoding?: 'learned' | 'rope';
  /** Base of the rotary frequencies. Default 10,000 (RoFormer and LLaMA). */
  ropeTheta?: number;
  /** `layernorm` (GPT-2; the default) or `rmsnorm` (LLaMA). */
  norm?: 'layernorm' | 'rmsnorm';
  /** `gelu` MLP (`c_fc`, activation, `c_proj`; the default) or `swiglu` (LLaMA: silu(gate) * up). */
  mlp?: 'gelu' | 'swiglu';
  /** Activation of the `gelu` MLP. Default `gelu-tanh`, GPT-2's `gelu_new`. */
  activation?: Activation;
  /** Hidden width of the MLP. Default 4 * nEmbd for `gelu`; for `swiglu`, 8/3 * nEmbd rounded up to a multiple of 32 (same parameter count as 4 * nEmbd with two matrices). */
  intermediateSize?: number;
  /** Epsilon of every norm. Default 1e-5 (GPT-2's `layer_norm_epsilon`). */
  normEpsilon?: number;
  /** Output head shares the token embedding (`wte`). Default true (GPT-2); LLaMA uses false. */
  tieWordEmbeddings?: boolean;
}

/** A {@link GPTConfig} with every default filled in. */
export type ResolvedGPTConfig = Required<GPTConfig>;

const WHERE = 'GPT config';
const KNOWN = new Set([
  'vocabSize',
  'blockSize',
  'nLayer',
  'nHead',
  'nEmbd',
  'dropout',
  'bias',
  'nKvHead',
  'positionEncoding',
  'ropeTheta',
  'norm',
  'mlp',
  'activation',
  'intermediateSize',
  'normEpsilon',
  'tieWordEmbeddings',
]);

/**
 * Fills in defaults and checks every field (positive sizes, `nEmbd % nHead`, `nHead % nKvHead`,
 * an even head size for RoPE, ...). Throws a `TransformerError` (`invalid_config`) naming the
 * field; allocates nothing.
 *
 * @example
 * ```ts
 * resolveGPTConfig({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 });
 * ```
 */
export function resolveGPTConfig(config: GPTConfig): ResolvedGPTConfig {
  if (typeof config !== 'object' || config === null)
    configError(WHERE, 'config', config, 'an object');
  for (const key of Object.keys(config)) {
    if (!KNOWN.has(key))
      configError(
        WHERE,
        key,
        (config as unknown as Record<string, unknown>)[key],
        'a known field (unknown key)',
      );
  }
  const vocabSize = checkInteger(WHERE, 'vocabSize', config.vocabSize);
  const blockSize = checkInteger(WHERE, 'blockSize', config.blockSize);
  const nLayer = checkInteger(WHERE, 'nLayer', config.nLayer);
  const nHead = checkInteger(WHERE, 'nHead', config.nHead);
  const nEmbd = checkInteger(WHERE, 'nEmbd', config.nEmbd);
  if (nEmbd % nHead !== 0) {
    configError(WHERE, 'nEmbd', nEmbd, `divisible by nHead (${nHead})`);
  }
  const nKvHead = checkInteger(WHERE, 'nKvHead', config.nKvHead ?? nHead);
  if (nHead % nKvHead !== 0)
    configError(WHERE, 'nKvHead', nKvHead, `a divisor of nHead (${nHead})`);
  const dropout = checkRange(WHERE, 'dropout', config.dropout ?? 0, 0, 1);
  const bias = checkBoolean(WHERE, 'bias', config.bias ?? true);
  const positionEncoding = checkChoice(
    WHERE,
    'positionEncoding',
    config.positionEncoding ?? 'learned',
    ['learned', 'rope'],
  );
  const ropeTheta = checkRange(WHERE, 'ropeTheta', config.ropeTheta ?? 10000, 1, Number.MAX_VALUE);
  if (positionEncoding === 'rope' && (nEmbd / nHead) % 2 !== 0) {
    configError(
      WHERE,
      'nHead',
      nHead,
      `such that the head size nEmbd / nHead (${nEmbd / nHead}) is even, for RoPE`,
    );
  }
  const norm = checkChoice(WHERE, 'norm', config.norm ?? 'layernorm', ['layernorm', 'rmsnorm']);
  const mlp = checkChoice(WHERE, 'mlp', config.mlp ?? 'gelu', ['gelu', 'swiglu']);
  const activation = checkChoice(WHERE, 'activation', config.activation ?? 'gelu-tanh', [
    'gelu-tanh',
    'gelu',
    'relu',
    'silu',
  ]);
  const defaultIntermediate = mlp === 'gelu' ? 4 * nEmbd : Math.ceil((8 * nEmbd) / 3 / 32) * 32;
  const intermediateSize = checkInteger(
    WHERE,
    'intermediateSize',
    config.intermediateSize ?? defaultIntermediate,
  );
  const normEpsilon = checkRange(WHERE, 'normEpsilon', config.normEpsilon ?? 1e-5, 0, 1);
  if (normEpsilon <= 0) configError(WHERE, 'normEpsilon', normEpsilon, 'positive');
  const tieWordEmbeddings = checkBoolean(
    WHERE,
    'tieWordEmbeddings',
    config.tieWordEmbeddings ?? true,
  );
  return {
    vocabSize,
    blockSize,
    nLayer,
    nHead,
    nEmbd,
    dropout,
    bias,
    nKvHead,
    positionEncoding,
    ropeTheta,
    norm,
    mlp,
    activation,
    intermediateSize,
    normEpsilon,
    tieWordEmbeddings,
  };
}

/**
 * A LLaMA-style configuration: RoPE, RMSNorm, SwiGLU, no biases, an untied output head. Pass the
 * sizes (and `nKvHead` for grouped-query attention); anything else given overrides the preset.
 *
 * @example
 * ```ts
 * const model = new GPT(llamaConfig({ vocabSize: 32000, blockSize: 2048, nLayer: 22, nHead: 32, nKvHead: 4, nEmbd: 2048 }));
 * ```
 */
export function llamaConfig(config: GPTConfig): GPTConfig {
  return {
    bias: false,
    positionEncoding: 'rope',
    norm: 'rmsnorm',
    mlp: 'swiglu',
    tieWordEmbeddings: false,
    ...config,
  };
}
