// GGUF export of a GPT-2-architecture model in llama.cpp's `gpt2` layout, so llama.cpp (and
// everything built on it: node-llama-cpp, Ollama, LM Studio) can run a model trained here. Tensor
// names follow llama.cpp's gpt2 conversion; llmkit's Linear weights are already [out, in], the
// layout llama.cpp expects (Hugging Face's Conv1D [in, out] weights are what needs transposing).
// Not handled: quantized types (see @llmkit/quantize), LLaMA-style configs (llama.cpp's `llama`
// layout permutes q/k for its RoPE).
import { type Tensor, noGrad } from '@llmkit/core-tensor';
import type { Encoding } from '@llmkit/tokenizer';
import { configError, writeFileAtomic } from '@llmkit/utils';
import { TransformerError } from '../errors.js';
import type { GPT } from '../gpt/model.js';
import { checkGpt2Compatible } from '../hf/convert.js';
import { ggufVocabulary } from './vocab.js';
import { GGML_TYPE, type GgufTensor, type GgufValue, ggufHeader, paddingAfter } from './writer.js';

/** Options of {@link exportGguf}. */
export interface ExportGgufOptions {
  /** Weight type of matrices: `f32` (exact) or `f16` (half the size). Norms and biases stay f32. */
  dtype?: 'f32' | 'f16';
  /** The byte-level BPE encoding whose vocabulary and merges go in the file (`getEncoding('gpt2')`). */
  tokenizer: Encoding;
  /** `general.name`. Default `llmkit-gpt2`. */
  name?: string;
  /** Beginning/end-of-sequence id. Default the tokenizer's `<|endoftext|>`. */
  eosTokenId?: number;
  /**
   * Tensors to write as given instead of the model's own, by llmkit name (`h.0.attn.c_attn.weight`,
   * `lm_head.weight`): a ggml type, the row-major float shape and the bytes. This is how
   * @llmkit/quantize writes Q8_0 / Q4_0 blocks; the state-dict entry of that name is not read.
   */
  tensors?: Readonly<Record<string, GgufTensorData>>;
  /** `general.file_type` (llama.cpp's LLAMA_FTYPE: 0 all f32, 1 mostly f16, 7 mostly Q8_0, 2 mostly Q4_0). Default from `dtype`. */
  fileType?: number;
}

/** A tensor given to {@link exportGguf} ready-made: its ggml type, row-major shape and bytes. */
export interface GgufTensorData {
  /** One of GGML_TYPE (F32 0, F16 1, Q4_0 2, Q8_0 8). */
  type: number;
  /** Row-major float shape, e.g. `[outFeatures, inFeatures]`. */
  shape: readonly number[];
  /** The encoded elements (for Q8_0 / Q4_0, the blocks of each row in order). */
  data: Uint8Array;
}

/** llmkit GPT-2 parameter name -> llama.cpp gpt2 tensor name. */
export function ggufTensorName(name: string): string {
  const fixed: Record<string, string> = {
    'wte.weight': 'token_embd.weight',
    'wpe.weight': 'position_embd.weight',
    'ln_f.weight': 'output_norm.weight',
    'ln_f.bias': 'output_norm.bias',
    'lm_head.weight': 'output.weight',
  };
  if (fixed[name]) return fixed[name];
  const match =
    /^h\.(\d+)\.(ln_1|attn\.c_attn|attn\.c_proj|ln_2|mlp\.c_fc|mlp\.c_proj)\.(weight|bias)$/.exec(
      name,
    );
  if (!match)
    throw new TransformerError('unsupported', `exportGguf: no gpt2 tensor for parameter '${name}'`);
  const part = {
    ln_1: 'attn_norm',
    'attn.c_attn': 'attn_qkv',
    'attn.c_proj': 'attn_output',
    ln_2: 'ffn_norm',
    'mlp.c_fc': 'ffn_up',
    'mlp.c_proj': 'ffn_down',
  }[match[2]];
  return `blk.${match[1]}.${part}.${match[3]}`;
}

/** The tensor's values as f16 or f32 bytes, whatever dtype it is kept in (a model may be bf16). */
async function tensorBytes(t: Tensor, half: boolean): Promise<Uint8Array> {
  const dtype = half ? 'float16' : 'float32';
  const converted = t.dtype === dtype ? t : noGrad(() => t.to(dtype));
  const data = await converted.data<Uint16Array | Float32Array>();
  if (converted !== t) converted.dispose();
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/**
 * Writes `model` as a GGUF file at `path` (atomically) in llama.cpp's
 * `gpt2` architecture, with the tokenizer's vocabulary and merges. The model must have GPT-2's
 * architecture (learned positions, LayerNorm with bias, tanh GELU MLP, no GQA) and a vocabulary the
 * size of the tokenizer's.
 *
 * @example
 * ```ts
 * await exportGguf(model, 'model.gguf', { dtype: 'f16', tokenizer: getEncoding('gpt2') });
 * // then: llama-cli -m model.gguf -p "Hello"
 * ```
 */
export async function exportGguf(
  model: GPT,
  path: string,
  options: ExportGgufOptions,
): Promise<void> {
  const c = model.config;
  checkGpt2Compatible(c, 'exportGguf');
  if (c.activation !== 'gelu-tanh')
    configError('exportGguf', 'activation', c.activation, "'gelu-tanh' (llama.cpp's gpt2 GELU)");
  const dtype = options.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16')
    configError('exportGguf', 'dtype', dtype, "'f32' or 'f16'");
  if (!options.tokenizer || typeof options.tokenizer.mergeableRanks !== 'function') {
    configError(
      'exportGguf',
      'tokenizer',
      typeof options.tokenizer,
      "a byte-level BPE Encoding (getEncoding('gpt2'))",
    );
  }
  const vocabulary = ggufVocabulary(options.tokenizer);
  if (vocabulary.tokens.length !== c.vocabSize) {
    throw new TransformerError(
      'invalid_config',
      `exportGguf: the tokenizer has ${vocabulary.tokens.length} tokens but the model's vocabSize is ${c.vocabSize}`,
    );
  }
  const eos =
    options.eosTokenId ?? options.tokenizer.specialTokens['<|endoftext|>'] ?? c.vocabSize - 1;
  const metadata: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'gpt2' },
    'general.name': { type: 'string', value: options.name ?? 'llmkit-gpt2' },
    // ALL_F32 / MOSTLY_F16 unless given
    'general.file_type': { type: 'uint32', value: options.fileType ?? (dtype === 'f16' ? 1 : 0) },
    'gpt2.context_length': { type: 'uint32', value: c.blockSize },
    'gpt2.embedding_length': { type: 'uint32', value: c.nEmbd },
    'gpt2.feed_forward_length': { type: 'uint32', value: c.intermediateSize },
    'gpt2.block_count': { type: 'uint32', value: c.nLayer },
    'gpt2.attention.head_count': { type: 'uint32', value: c.nHead },
    'gpt2.attention.layer_norm_epsilon': { type: 'float32', value: c.normEpsilon },
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: 'gpt-2' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: vocabulary.tokens },
    'tokenizer.ggml.token_type': { type: 'int32[]', value: vocabulary.types },
    'tokenizer.ggml.merges': { type: 'string[]', value: vocabulary.merges },
    'tokenizer.ggml.bos_token_id': { type: 'uint32', value: eos },
    'tokenizer.ggml.eos_token_id': { type: 'uint32', value: eos },
  };
  const parameters: [string, Tensor][] = Object.entries(model.stateDict());
  // A head tied to wte is not written: llama.cpp's loader reads token_embd for the head when
  // output.weight is absent (a second copy would double the largest tensor in the file).
  const tensors: GgufTensor[] = [];
  for (const [name, t] of parameters) {
    const given = options.tensors?.[name];
    if (given) {
      tensors.push({ name: ggufTensorName(name), ...given });
      continue;
    }
    const half = dtype === 'f16' && t.rank >= 2; // as llama.cpp's converter: 1-D tensors stay f32
    tensors.push({
      name: ggufTensorName(name),
      shape: t.shape,
      type: half ? GGML_TYPE.F16 : GGML_TYPE.F32,
      data: await tensorBytes(t, half),
    });
  }
  await writeFileAtomic(path, [
    ggufHeader(metadata, tensors),
    ...tensors.flatMap((t) => [t.data, paddingAfter(t.data.length)]),
  ]);
}
