// Hugging Face GPT-2 <-> llmkit GPT: the config fields and the tensor names and layouts. GPT-2's
// linear layers are `Conv1D`s whose weights are stored `[in, out]` (y = x W + b); llmkit's Linear
// stores `[out, in]` like torch.nn.Linear, so those four weights per block are transposed.
import { contiguous, formatShape, type Tensor, transpose } from '@llmkit/core-tensor';
import { configError } from '@llmkit/utils';
import { TransformerError } from '../errors.js';
import type { GPTConfig, ResolvedGPTConfig } from '../gpt/config.js';

const WHERE = 'Hugging Face GPT-2 config.json';

/** The GPT-2 `Conv1D` weights (stored `[in, out]` in Hugging Face files). */
export const CONV1D_WEIGHT = /^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
/** Causal-mask buffers that old GPT-2 files carry; not weights. */
export const IGNORED_BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/;

const ACTIVATIONS: Record<string, GPTConfig['activation']> = {
  gelu_new: 'gelu-tanh',
  gelu_pytorch_tanh: 'gelu-tanh',
  gelu_fast: 'gelu-tanh',
  gelu: 'gelu',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

/** Maps a Hugging Face `GPT2Config` (config.json) to a {@link GPTConfig}. */
export function gptConfigFromHuggingFace(json: Record<string, unknown>): GPTConfig {
  if (json.model_type !== undefined && json.model_type !== 'gpt2') {
    configError(WHERE, 'model_type', json.model_type, "'gpt2' (only GPT-2 checkpoints load here)");
  }
  for (const flag of [
    'scale_attn_by_inverse_layer_idx',
    'reorder_and_upcast_attn',
    'add_cross_attention',
  ]) {
    if (json[flag] === true) configError(WHERE, flag, true, 'false (not supported)');
  }
  const activationName = (json.activation_function as string | undefined) ?? 'gelu_new';
  const activation = ACTIVATIONS[activationName];
  if (!activation)
    configError(
      WHERE,
      'activation_function',
      activationName,
      `one of ${Object.keys(ACTIVATIONS).join(', ')}`,
    );
  const nEmbd = json.n_embd as number;
  return {
    vocabSize: json.vocab_size as number,
    blockSize: json.n_positions as number,
    nLayer: json.n_layer as number,
    nHead: json.n_head as number,
    nEmbd,
    intermediateSize:
      (json.n_inner as number | null | undefined) ??
      (typeof nEmbd === 'number' ? 4 * nEmbd : undefined),
    activation,
    normEpsilon: (json.layer_norm_epsilon as number | undefined) ?? 1e-5,
    tieWordEmbeddings: (json.tie_word_embeddings as boolean | undefined) ?? true,
    dropout: 0,
  };
}

/** Checks that a model has GPT-2's architecture, naming the first field that does not. */
export function checkGpt2Compatible(config: ResolvedGPTConfig, where: string): void {
  const expected: [keyof ResolvedGPTConfig, unknown][] = [
    ['positionEncoding', 'learned'],
    ['norm', 'layernorm'],
    ['mlp', 'gelu'],
    ['bias', true],
    ['nKvHead', config.nHead],
  ];
  for (const [field, value] of expected) {
    if (config[field] !== value)
      configError(where, field, config[field], `${JSON.stringify(value)} for the GPT-2 layout`);
  }
  const reverse = Object.entries(ACTIVATIONS).find(([, a]) => a === config.activation);
  if (!reverse) configError(where, 'activation', config.activation, 'a GPT-2 activation');
}

/** The Hugging Face `config.json` of a GPT-2-compatible model. */
export function huggingFaceConfig(config: ResolvedGPTConfig): Record<string, unknown> {
  const activation = { 'gelu-tanh': 'gelu_new', gelu: 'gelu', relu: 'relu', silu: 'silu' }[
    config.activation
  ];
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_positions: config.blockSize,
    n_ctx: config.blockSize,
    n_embd: config.nEmbd,
    n_layer: config.nLayer,
    n_head: config.nHead,
    n_inner: config.intermediateSize === 4 * config.nEmbd ? null : config.intermediateSize,
    activation_function: activation,
    layer_norm_epsilon: config.normEpsilon,
    resid_pdrop: config.dropout,
    embd_pdrop: config.dropout,
    attn_pdrop: config.dropout,
    tie_word_embeddings: config.tieWordEmbeddings,
    bos_token_id: config.vocabSize - 1,
    eos_token_id: config.vocabSize - 1,
  };
}

/**
 * Renames and transposes a Hugging Face GPT-2 state dict into llmkit's names and layouts, checking
 * it against `expected` (the model's own shapes). Collects every missing key, unexpected key and
 * shape mismatch and throws one `checkpoint` error listing them all; otherwise returns the
 * converted tensors (new tensors for transposed weights, the same tensors for the rest).
 */
export function fromHuggingFaceStateDict(
  tensors: Record<string, Tensor>,
  expected: Record<string, readonly number[]>,
  tied: boolean,
): Record<string, Tensor> {
  const renamed: Record<string, Tensor> = {};
  const unexpected: string[] = [];
  const mismatched: string[] = [];
  for (const [fileKey, t] of Object.entries(tensors)) {
    const key = fileKey.startsWith('transformer.') ? fileKey.slice('transformer.'.length) : fileKey;
    if (IGNORED_BUFFER.test(key)) continue;
    if (key === 'lm_head.weight' && tied) continue; // tied to wte; some files still store a copy
    const own = expected[key];
    if (!own) {
      unexpected.push(fileKey);
      continue;
    }
    const want = CONV1D_WEIGHT.test(key) ? [own[1], own[0]] : own;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      mismatched.push(
        `${fileKey}: ${formatShape(t.shape)} in the file, expected ${formatShape(want)}`,
      );
      continue;
    }
    renamed[key] = t;
  }
  const missing = Object.keys(expected).filter(
    (key) =>
      !(key in renamed) &&
      !mismatched.some((m) => m.replace(/^transformer\./, '').startsWith(`${key}:`)),
  );
  throwIfMismatched('GPT-2', missing, unexpected, mismatched);
  for (const key of Object.keys(renamed)) {
    if (CONV1D_WEIGHT.test(key)) renamed[key] = contiguous(transpose(renamed[key]));
  }
  return renamed;
}

/** llmkit's state dict in Hugging Face GPT-2 names (`transformer.` prefix) and layouts. */
export function toHuggingFaceStateDict(state: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(state)) {
    if (key === 'lm_head.weight') out[key] = t;
    else out[`transformer.${key}`] = CONV1D_WEIGHT.test(key) ? contiguous(transpose(t)) : t;
  }
  return out;
}

/**
 * Throws one `corrupt_file` error listing every missing key, unexpected key and shape mismatch
 * of a checkpoint, or returns when all three lists are empty.
 */
export function throwIfMismatched(
  what: string,
  missing: readonly string[],
  unexpected: readonly string[],
  mismatched: readonly string[],
): void {
  if (missing.length + unexpected.length + mismatched.length === 0) return;
  const parts = [
    missing.length ? `missing keys: ${missing.join(', ')}` : '',
    unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '',
    mismatched.length ? `shape mismatches: ${mismatched.join('; ')}` : '',
  ].filter(Boolean);
  throw new TransformerError(
    'corrupt_file',
    `not a matching ${what} checkpoint: ${parts.join('; ')}`,
  );
}
