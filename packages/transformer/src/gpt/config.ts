// GPT configuration: GPT-2 semantics by default, LLaMA-style options beside them. Validated before
// anything is allocated, so a bad field fails in microseconds with its name in the message.
import { checkBoolean, checkChoice, checkNumber, configError, withDefaults } from '@llmkit/utils';
import { EPSILON, FRACTION, SIZE } from '../errors.js';

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
  /** Width of one attention head. Default nEmbd / nHead; Qwen3 sets it apart (`head_dim`). */
  headSize?: number;
  /** Biases on the query, key and value projections. Default `bias`; Qwen2 has them with `bias` false. */
  qkvBias?: boolean;
  /** RMSNorm over each head's queries and keys before RoPE (`q_norm`, `k_norm`: Qwen3). Default false. */
  qkNorm?: boolean;
  /** RoPE frequency scaling for long contexts: `null` (none, the default) or Llama 3's. */
  ropeScaling?: RopeScaling | null;
}

/**
 * Llama 3.1's RoPE frequency scaling (`rope_type: "llama3"`): wavelengths longer than
 * originalMaxPositions / lowFreqFactor are divided by `factor`, shorter than
 * originalMaxPositions / highFreqFactor kept, and those between interpolated smoothly.
 */
export interface RopeScaling {
  /** Always `llama3`. */
  type: 'llama3';
  /** How much longer the context is than in pretraining (Llama 3.1: 8). */
  factor: number;
  /** Llama 3.1: 1. */
  lowFreqFactor: number;
  /** Llama 3.1: 4. */
  highFreqFactor: number;
  /** The pretraining context (Llama 3.1: 8,192). */
  originalMaxPositions: number;
}

/** A {@link GPTConfig} with every default filled in. */
export type ResolvedGPTConfig = Required<GPTConfig>;

const WHERE = 'GPT config';

// Every field with its default; `undefined` where the field is required (the sizes) or its
// default comes from other fields (nKvHead, intermediateSize). The known keys are this object's
// keys, and `satisfies` makes the compiler reject a GPTConfig field missing here.
const DEFAULTS = {
  vocabSize: undefined,
  blockSize: undefined,
  nLayer: undefined,
  nHead: undefined,
  nEmbd: undefined,
  dropout: 0,
  bias: true,
  nKvHead: undefined,
  positionEncoding: 'learned',
  ropeTheta: 10000,
  norm: 'layernorm',
  mlp: 'gelu',
  activation: 'gelu-tanh',
  intermediateSize: undefined,
  normEpsilon: 1e-5,
  tieWordEmbeddings: true,
  headSize: undefined,
  qkvBias: undefined,
  qkNorm: false,
  ropeScaling: null,
} satisfies { [K in keyof Required<GPTConfig>]: GPTConfig[K] | undefined };

/**
 * Fills in defaults and checks every field (positive sizes, `nEmbd % nHead`, `nHead % nKvHead`,
 * an even head size for RoPE, ...) and rejects unknown fields. Throws `LlmkitError`
 * (`invalid_config`, from @llmkit/utils' validators) naming the field; allocates nothing.
 *
 * @example
 * ```ts
 * resolveGPTConfig({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 });
 * ```
 */
export function resolveGPTConfig(config: GPTConfig): ResolvedGPTConfig {
  if (typeof config !== 'object' || config === null)
    configError(WHERE, 'config', config, 'an object');
  const c = withDefaults<Record<keyof GPTConfig, unknown>>(config, DEFAULTS, WHERE);
  const vocabSize = checkNumber(WHERE, 'vocabSize', c.vocabSize, SIZE);
  const blockSize = checkNumber(WHERE, 'blockSize', c.blockSize, SIZE);
  const nLayer = checkNumber(WHERE, 'nLayer', c.nLayer, SIZE);
  const nHead = checkNumber(WHERE, 'nHead', c.nHead, SIZE);
  const nEmbd = checkNumber(WHERE, 'nEmbd', c.nEmbd, SIZE);
  if (nEmbd % nHead !== 0) {
    configError(WHERE, 'nEmbd', nEmbd, `divisible by nHead (${nHead})`);
  }
  const nKvHead = checkNumber(WHERE, 'nKvHead', c.nKvHead ?? nHead, SIZE);
  if (nHead % nKvHead !== 0)
    configError(WHERE, 'nKvHead', nKvHead, `a divisor of nHead (${nHead})`);
  const dropout = checkNumber(WHERE, 'dropout', c.dropout, FRACTION);
  const bias = checkBoolean(WHERE, 'bias', c.bias);
  const positionEncoding = checkChoice(WHERE, 'positionEncoding', c.positionEncoding, [
    'learned',
    'rope',
  ]);
  const ropeTheta = checkNumber(WHERE, 'ropeTheta', c.ropeTheta, { min: 1 });
  const headSize = checkNumber(WHERE, 'headSize', c.headSize ?? nEmbd / nHead, SIZE);
  if (positionEncoding === 'rope' && headSize % 2 !== 0) {
    configError(
      WHERE,
      c.headSize === undefined ? 'nHead' : 'headSize',
      c.headSize ?? nHead,
      `such that the head size (${headSize}) is even, for RoPE`,
    );
  }
  const qkvBias = checkBoolean(WHERE, 'qkvBias', c.qkvBias ?? bias);
  const qkNorm = checkBoolean(WHERE, 'qkNorm', c.qkNorm);
  const ropeScaling = c.ropeScaling == null ? null : checkRopeScaling(c.ropeScaling);
  const norm = checkChoice(WHERE, 'norm', c.norm, ['layernorm', 'rmsnorm']);
  const mlp = checkChoice(WHERE, 'mlp', c.mlp, ['gelu', 'swiglu']);
  const activation = checkChoice(WHERE, 'activation', c.activation, [
    'gelu-tanh',
    'gelu',
    'relu',
    'silu',
  ]);
  const defaultIntermediate = mlp === 'gelu' ? 4 * nEmbd : Math.ceil((8 * nEmbd) / 3 / 32) * 32;
  const intermediateSize = checkNumber(
    WHERE,
    'intermediateSize',
    c.intermediateSize ?? defaultIntermediate,
    SIZE,
  );
  const normEpsilon = checkNumber(WHERE, 'normEpsilon', c.normEpsilon, EPSILON);
  const tieWordEmbeddings = checkBoolean(WHERE, 'tieWordEmbeddings', c.tieWordEmbeddings);
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
    headSize,
    qkvBias,
    qkNorm,
    ropeScaling,
  };
}

function checkRopeScaling(value: unknown): RopeScaling {
  const field = 'ropeScaling';
  if (typeof value !== 'object' || value === null)
    configError(WHERE, field, value, 'null or an object');
  const r = value as Record<string, unknown>;
  checkChoice(WHERE, `${field}.type`, r.type, ['llama3']);
  return {
    type: 'llama3',
    factor: checkNumber(WHERE, `${field}.factor`, r.factor, { min: 1 }),
    lowFreqFactor: checkNumber(WHERE, `${field}.lowFreqFactor`, r.lowFreqFactor, {
      min: 0,
      minExclusive: true,
    }),
    highFreqFactor: checkNumber(WHERE, `${field}.highFreqFactor`, r.highFreqFactor, {
      min: 0,
      minExclusive: true,
    }),
    originalMaxPositions: checkNumber(
      WHERE,
      `${field}.originalMaxPositions`,
      r.originalMaxPositions,
      SIZE,
    ),
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
