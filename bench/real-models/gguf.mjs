// The bench's own GGUF writer for llama.cpp: the weights of a Hugging Face folder written by
// weights.mjs as a `qwen3` or `llama` GGUF (f32, bf16, q8_0 or q4_0), with llama.cpp's tensor
// names, hyperparameters and the byte-level BPE vocabulary of the folder's tokenizer.json. What
// llama.cpp's convert_hf_to_gguf.py does for these two families, minus everything they do not
// need (no sentencepiece, no chat template). Q8_0 / Q4_0 blocks come from @llmkit/quantize's
// quantizeWeight (ggml's reference quantizers) and the header from @llmkit/transformer's GGUF
// writer; the data is streamed tensor by tensor (Llama-3.2-1B in f32 is 4.6 GiB).
//
// Quantized files quantize every matrix, the embedding (and tied head) included, like
// llama-quantize --pure: the same tensors llmkit's quantizeModel(..., { embeddings: true }) packs.
// Norms and rope_freqs stay f32 in every file, as llama.cpp's converter keeps 1-D tensors.
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { quantizeWeight } from '../../packages/quantize/dist/index.js';
import { ggufHeader, paddingAfter } from '../../packages/transformer/dist/gguf/writer.js';
import { headDim, readFolderTensors, tensorList } from './weights.mjs';

/** The formats, with ggml's type of a matrix and llama.cpp's `general.file_type`. */
export const GGUF_FORMATS = {
  f32: { type: 0, fileType: 0, bytes: (n) => n * 4 },
  bf16: { type: 30, fileType: 32, bytes: (n) => n * 2 },
  q8_0: { type: 8, fileType: 7, bytes: (n) => (n / 32) * 34 },
  q4_0: { type: 2, fileType: 2, bytes: (n) => (n / 32) * 18 },
};
const F32 = 0;

/** llama.cpp's name of a Hugging Face tensor name. */
function ggufName(name) {
  const fixed = {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  };
  if (fixed[name]) return fixed[name];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  const parts = {
    'input_layernorm.weight': 'attn_norm.weight',
    'self_attn.q_proj.weight': 'attn_q.weight',
    'self_attn.k_proj.weight': 'attn_k.weight',
    'self_attn.v_proj.weight': 'attn_v.weight',
    'self_attn.o_proj.weight': 'attn_output.weight',
    'self_attn.q_norm.weight': 'attn_q_norm.weight',
    'self_attn.k_norm.weight': 'attn_k_norm.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
    'mlp.gate_proj.weight': 'ffn_gate.weight',
    'mlp.up_proj.weight': 'ffn_up.weight',
    'mlp.down_proj.weight': 'ffn_down.weight',
  };
  if (!m || !parts[m[2]]) throw new Error(`no GGUF name for ${name}`);
  return `blk.${m[1]}.${parts[m[2]]}`;
}

/**
 * Hugging Face's Llama stores q and k for rotate-half RoPE (the two halves of a head are the
 * pairs); llama.cpp's `llama` architecture rotates adjacent pairs. The converter reorders the rows
 * of each head: new row 2i + j is old row j * (headDim / 2) + i. For headDim 4:
 * rows [a0, a1, b0, b1] -> [a0, b0, a1, b1]. Qwen3 runs NEOX-style RoPE in llama.cpp: no reordering.
 */
function permuteRows(values, heads, columns) {
  const rows = values.length / columns;
  const hd = rows / heads;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < hd / 2; i++)
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + j * (hd / 2) + i) * columns;
        out.set(values.subarray(from, from + columns), (h * hd + 2 * i + j) * columns);
      }
  return out;
}

/**
 * Llama 3's RoPE scaling as llama.cpp takes it: a divisor per frequency (`rope_freqs.weight`,
 * headDim / 2 values). High frequencies (wavelength under original / highFreqFactor) keep theirs
 * (1), low ones (over original / lowFreqFactor) are divided by `factor`, and those between are
 * interpolated smoothly, as in Hugging Face's `_compute_llama3_parameters`.
 */
function llama3RopeFactors(config) {
  const s = config.rope_scaling;
  const dim = headDim(config);
  const original = s.original_max_position_embeddings;
  const low = original / s.low_freq_factor;
  const high = original / s.high_freq_factor;
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const frequency = 1 / config.rope_theta ** ((2 * i) / dim);
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < high) out[i] = 1;
    else if (wavelength > low) out[i] = s.factor;
    else {
      const smooth =
        (original / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/**
 * The vocabulary of a byte-level BPE tokenizer.json as llama.cpp's `gpt2` tokenizer reads it:
 * tokens by id (ids the vocabulary lacks up to the model's vocab_size become `[PAD<id>]`,
 * unused, as the converter pads Qwen's 151,936 rows), types (1 normal, 3 control for special
 * added tokens, 4 user-defined for the others, 5 unused) and merges as "left right".
 */
function vocabulary(dir, vocabSize) {
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  if (json.model.type !== 'BPE')
    throw new Error(`${dir}: tokenizer model ${json.model.type}, expected BPE`);
  const tokens = new Array(vocabSize);
  const types = new Array(vocabSize).fill(5);
  for (const [token, id] of Object.entries(json.model.vocab)) {
    tokens[id] = token;
    types[id] = 1;
  }
  for (const added of json.added_tokens ?? []) {
    tokens[added.id] = added.content;
    types[added.id] = added.special ? 3 : 4;
  }
  for (let i = 0; i < vocabSize; i++) if (tokens[i] === undefined) tokens[i] = `[PAD${i}]`;
  const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return { tokens, types, merges };
}

/** llama.cpp's metadata for the folder's config: hyperparameters and tokenizer. */
function metadata(dir, config, format) {
  const arch = config.model_type;
  const { tokens, types, merges } = vocabulary(dir, config.vocab_size);
  const u32 = (value) => ({ type: 'uint32', value });
  const f32 = (value) => ({ type: 'float32', value });
  const hd = headDim(config);
  const eos = Array.isArray(config.eos_token_id) ? config.eos_token_id[0] : config.eos_token_id;
  return {
    'general.architecture': { type: 'string', value: arch },
    'general.name': { type: 'string', value: `${arch} random weights (llmkit real-models bench)` },
    'general.file_type': u32(GGUF_FORMATS[format].fileType),
    [`${arch}.vocab_size`]: u32(config.vocab_size),
    [`${arch}.context_length`]: u32(config.max_position_embeddings),
    [`${arch}.embedding_length`]: u32(config.hidden_size),
    [`${arch}.block_count`]: u32(config.num_hidden_layers),
    [`${arch}.feed_forward_length`]: u32(config.intermediate_size),
    [`${arch}.attention.head_count`]: u32(config.num_attention_heads),
    [`${arch}.attention.head_count_kv`]: u32(config.num_key_value_heads),
    [`${arch}.attention.key_length`]: u32(hd),
    [`${arch}.attention.value_length`]: u32(hd),
    [`${arch}.rope.dimension_count`]: u32(hd),
    [`${arch}.rope.freq_base`]: f32(config.rope_theta),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(config.rms_norm_eps),
    'tokenizer.ggml.model': { type: 'string', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'string', value: arch === 'qwen3' ? 'qwen2' : 'llama-bpe' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: tokens },
    'tokenizer.ggml.token_type': { type: 'int32[]', value: types },
    'tokenizer.ggml.merges': { type: 'string[]', value: merges },
    'tokenizer.ggml.bos_token_id': u32(config.bos_token_id),
    'tokenizer.ggml.eos_token_id': u32(eos),
    // Qwen adds no BOS; Llama 3 does (<|begin_of_text|>)
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: arch !== 'qwen3' },
  };
}

/**
 * Writes (or reuses) `<folder>.<format>.gguf` beside the folder from its safetensors; returns the
 * path. `stamp` identifies the weights (the folder's stamp): a file with the same stamp is kept.
 */
export function writeGguf(dir, format, log = () => {}) {
  const spec = GGUF_FORMATS[format];
  if (!spec)
    throw new Error(`GGUF format ${format}: expected ${Object.keys(GGUF_FORMATS).join(', ')}`);
  const path = `${dir}.${format}.gguf`;
  const stamp = `${readFileSync(join(dir, '.llmkit-bench-stamp'), 'utf8')}|gguf 1`;
  if (
    existsSync(path) &&
    existsSync(`${path}.stamp`) &&
    readFileSync(`${path}.stamp`, 'utf8') === stamp
  )
    return path;
  rmSync(`${path}.stamp`, { force: true });
  const started = performance.now();
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  if (!['qwen3', 'llama'].includes(config.model_type))
    throw new Error(`GGUF writer: model_type ${config.model_type}, expected qwen3 or llama`);
  const ropeFactors =
    config.rope_scaling?.rope_type === 'llama3' ? llama3RopeFactors(config) : null;
  // tensor infos (their byte sizes decide the offsets) before any data
  const typeOf = (shape) => (shape.length === 2 ? spec.type : F32);
  const bytesOf = (shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return shape.length === 2 ? spec.bytes(n) : n * 4;
  };
  const list = tensorList(config);
  const infos = list.map((e) => ({
    name: ggufName(e.name),
    shape: e.shape,
    type: typeOf(e.shape),
    data: { length: bytesOf(e.shape) }, // ggufHeader reads only the length
  }));
  if (ropeFactors)
    infos.push({
      name: 'rope_freqs.weight',
      shape: [ropeFactors.length],
      type: F32,
      data: ropeFactors,
    });
  const header = ggufHeader(metadata(dir, config, format), infos);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    let at = 0;
    const put = (bytes) => {
      writeSync(fd, bytes);
      writeSync(fd, paddingAfter(bytes.length));
    };
    for (const { name, shape, values } of readFolderTensors(dir)) {
      const expected = list[at++];
      if (expected?.name !== name)
        throw new Error(`${dir}: tensor ${name} where ${expected?.name} was expected`);
      let x = values;
      if (config.model_type === 'llama' && name.endsWith('self_attn.q_proj.weight'))
        x = permuteRows(x, config.num_attention_heads, shape[1]);
      if (config.model_type === 'llama' && name.endsWith('self_attn.k_proj.weight'))
        x = permuteRows(x, config.num_key_value_heads, shape[1]);
      let bytes;
      if (shape.length !== 2 || format === 'f32')
        bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      else if (format === 'bf16') {
        // exact: the values came from bf16
        const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
        const half = new Uint16Array(x.length);
        for (let i = 0; i < x.length; i++) half[i] = bits[i] >>> 16;
        bytes = new Uint8Array(half.buffer);
      } else bytes = quantizeWeight(x, shape, { format }).parts.weight;
      if (bytes.length !== bytesOf(shape))
        throw new Error(`${name}: ${bytes.length} bytes, expected ${bytesOf(shape)}`);
      put(bytes);
    }
    if (at !== list.length) throw new Error(`${dir}: ${list.length - at} tensors missing`);
    if (ropeFactors) put(new Uint8Array(ropeFactors.buffer));
  } finally {
    closeSync(fd);
  }
  writeFileSync(`${path}.stamp`, stamp);
  log(`wrote ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return path;
}
