// Hugging Face model families beyond GPT-2: config.json -> llmkit config, and the state-dict
// key plan between Hugging Face's names and llmkit's.
//
// Llama, Mistral, Qwen2 and Qwen3 are decoder-only with RoPE, RMSNorm and SwiGLU: they load into
// llmkit's GPT with its LLaMA-style options. llmkit fuses q/k/v into `c_attn` and gate/up into
// `c_fc`, so those Hugging Face tensors are concatenated along the output features on load and
// split again on save. BERT loads into llmkit's Encoder, whose names already follow BERT's.
import { cat, formatShape, narrow, type Tensor } from '@llmkit/core-tensor';
import { configError } from '@llmkit/utils';
import { TransformerError } from '../errors.js';
import { throwIfMismatched } from './convert.js';
import type { EncoderConfig } from '../encoder/config.js';
import type { GPTConfig, ResolvedGPTConfig, RopeScaling } from '../gpt/config.js';

const WHERE = 'config.json';

/** The decoder families {@link decoderConfigFromHuggingFace} reads (besides `gpt2`). */
export const LLAMA_FAMILY = ['llama', 'mistral', 'qwen2', 'qwen3'] as const;

type Json = Record<string, unknown>;

function ropeScalingOf(json: Json): RopeScaling | null {
  const scaling = json.rope_scaling as Json | null | undefined;
  if (!scaling) return null;
  const type = (scaling.rope_type ?? scaling.type) as string | undefined;
  if (type === 'default') return null;
  if (type !== 'llama3')
    throw new TransformerError(
      'unsupported',
      `${WHERE}: rope_scaling type ${JSON.stringify(type)} is not supported; supported: default, llama3`,
    );
  return {
    type: 'llama3',
    factor: scaling.factor as number,
    lowFreqFactor: (scaling.low_freq_factor as number) ?? 1,
    highFreqFactor: (scaling.high_freq_factor as number) ?? 4,
    originalMaxPositions: (scaling.original_max_position_embeddings as number) ?? 8192,
  };
}

/**
 * Maps the config.json of a Llama, Mistral, Qwen2 or Qwen3 model to a {@link GPTConfig}.
 * `maxPositions` caps the context (and so the RoPE tables) below `max_position_embeddings`.
 * Options the GPT cannot represent are an `unsupported` error naming the field.
 *
 * @example
 * ```ts
 * decoderConfigFromHuggingFace({ model_type: 'qwen3', hidden_size: 1024, ... }).qkNorm; // true
 * ```
 */
export function decoderConfigFromHuggingFace(json: Json, maxPositions?: number): GPTConfig {
  const type = json.model_type as string;
  if (!(LLAMA_FAMILY as readonly string[]).includes(type))
    configError(WHERE, 'model_type', type, `one of gpt2, ${LLAMA_FAMILY.join(', ')}, bert`);
  const act = (json.hidden_act ?? 'silu') as string;
  if (act !== 'silu')
    throw new TransformerError(
      'unsupported',
      `${WHERE}: hidden_act ${JSON.stringify(act)} is not supported for ${type}; expected "silu"`,
    );
  if (json.mlp_bias === true)
    throw new TransformerError('unsupported', `${WHERE}: mlp_bias true is not supported`);
  const positions = json.max_position_embeddings as number;
  const blockSize = maxPositions ? Math.min(maxPositions, positions) : positions;
  const window = json.sliding_window as number | null | undefined;
  const slidingUsed = type === 'mistral' ? window != null : json.use_sliding_window === true;
  if (slidingUsed && window != null && window < blockSize)
    throw new TransformerError(
      'unsupported',
      `${WHERE}: sliding_window ${window} is shorter than the context ${blockSize}; sliding-window attention is not supported (load with maxPositions <= ${window})`,
    );
  const nHead = json.num_attention_heads as number;
  const nEmbd = json.hidden_size as number;
  if (type !== 'qwen2' && json.attention_bias === true)
    throw new TransformerError(
      'unsupported',
      `${WHERE}: attention_bias true is not supported for ${type} (Qwen2's q/k/v biases are)`,
    );
  return {
    vocabSize: json.vocab_size as number,
    blockSize,
    nLayer: json.num_hidden_layers as number,
    nHead,
    nKvHead: (json.num_key_value_heads as number | undefined) ?? nHead,
    nEmbd,
    headSize: (json.head_dim as number | undefined) ?? nEmbd / nHead,
    intermediateSize: json.intermediate_size as number,
    bias: false,
    // Qwen2 has biases on q, k and v only
    qkvBias: type === 'qwen2',
    qkNorm: type === 'qwen3',
    positionEncoding: 'rope',
    ropeTheta: (json.rope_theta as number | undefined) ?? 10000,
    ropeScaling: ropeScalingOf(json),
    norm: 'rmsnorm',
    mlp: 'swiglu',
    normEpsilon: (json.rms_norm_eps as number | undefined) ?? 1e-6,
    tieWordEmbeddings: (json.tie_word_embeddings as boolean | undefined) ?? false,
    dropout: 0,
  };
}

/** The config.json of a llmkit GPT in the Llama family's layout (`model_type` from its options). */
export function llamaFamilyConfig(config: ResolvedGPTConfig): Json {
  const type = config.qkNorm ? 'qwen3' : config.qkvBias && !config.bias ? 'qwen2' : 'llama';
  const r = config.ropeScaling;
  return {
    architectures: [
      type === 'llama'
        ? 'LlamaForCausalLM'
        : type === 'qwen2'
          ? 'Qwen2ForCausalLM'
          : 'Qwen3ForCausalLM',
    ],
    model_type: type,
    vocab_size: config.vocabSize,
    hidden_size: config.nEmbd,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.nLayer,
    num_attention_heads: config.nHead,
    num_key_value_heads: config.nKvHead,
    head_dim: config.headSize,
    hidden_act: 'silu',
    max_position_embeddings: config.blockSize,
    rms_norm_eps: config.normEpsilon,
    rope_theta: config.ropeTheta,
    rope_scaling: r
      ? {
          rope_type: 'llama3',
          factor: r.factor,
          low_freq_factor: r.lowFreqFactor,
          high_freq_factor: r.highFreqFactor,
          original_max_position_embeddings: r.originalMaxPositions,
        }
      : null,
    attention_bias: false,
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: 'float32',
  };
}

/** Where each llmkit tensor comes from: Hugging Face keys, concatenated along dim 0 when several. */
export type KeyPlan = Record<string, string[]>;

/** The key plan of a Llama-family GPT (llmkit key -> Hugging Face keys). */
export function llamaKeyPlan(config: ResolvedGPTConfig): KeyPlan {
  const plan: KeyPlan = {
    'wte.weight': ['model.embed_tokens.weight'],
    'ln_f.weight': ['model.norm.weight'],
  };
  if (!config.tieWordEmbeddings) plan['lm_head.weight'] = ['lm_head.weight'];
  for (let i = 0; i < config.nLayer; i++) {
    const hf = `model.layers.${i}`;
    const own = `h.${i}`;
    plan[`${own}.ln_1.weight`] = [`${hf}.input_layernorm.weight`];
    plan[`${own}.ln_2.weight`] = [`${hf}.post_attention_layernorm.weight`];
    plan[`${own}.attn.c_attn.weight`] = ['q', 'k', 'v'].map(
      (p) => `${hf}.self_attn.${p}_proj.weight`,
    );
    if (config.qkvBias)
      plan[`${own}.attn.c_attn.bias`] = ['q', 'k', 'v'].map(
        (p) => `${hf}.self_attn.${p}_proj.bias`,
      );
    plan[`${own}.attn.c_proj.weight`] = [`${hf}.self_attn.o_proj.weight`];
    if (config.qkNorm) {
      plan[`${own}.attn.q_norm.weight`] = [`${hf}.self_attn.q_norm.weight`];
      plan[`${own}.attn.k_norm.weight`] = [`${hf}.self_attn.k_norm.weight`];
    }
    plan[`${own}.mlp.c_fc.weight`] = [`${hf}.mlp.gate_proj.weight`, `${hf}.mlp.up_proj.weight`];
    plan[`${own}.mlp.c_proj.weight`] = [`${hf}.mlp.down_proj.weight`];
  }
  return plan;
}

// Buffers some files carry that are recomputed here
const IGNORED = /(rotary_emb\.inv_freq|embeddings\.position_ids|\.attn\.masked_bias)$/;

/**
 * Builds llmkit's state dict from Hugging Face tensors by a key plan, checking every shape
 * against `expected`. All missing keys, unexpected keys and shape mismatches are collected into
 * one `corrupt_file` error. `ignore` lists Hugging Face keys that may be present and unused
 * (a tied head's copy). `joined` holds entries a {@link PlanJoiner} already joined while the
 * files were read.
 */
export function applyKeyPlan(
  tensors: Record<string, Tensor>,
  plan: KeyPlan,
  expected: Record<string, readonly number[]>,
  what: string,
  ignore: (key: string) => boolean = () => false,
  joined: Record<string, Tensor> = {},
): Record<string, Tensor> {
  const used = new Set<string>();
  const missing: string[] = [];
  const mismatched: string[] = [];
  const out: Record<string, Tensor> = {};
  for (const [own, sources] of Object.entries(plan)) {
    const parts = own in joined ? [joined[own]] : sources.map((key) => tensors[key]);
    const absent = own in joined ? [] : sources.filter((_, i) => !parts[i]);
    if (absent.length > 0) {
      missing.push(...absent);
      continue;
    }
    for (const key of sources) used.add(key);
    const want = expected[own];
    const whole = parts.length === 1 ? parts[0] : cat(parts, 0);
    if (!want || whole.shape.length !== want.length || whole.shape.some((d, i) => d !== want[i])) {
      mismatched.push(
        `${sources.join(' + ')}: ${formatShape(whole.shape)} in the file, expected ${want ? formatShape(want) : 'no such tensor'}`,
      );
      if (whole !== parts[0]) whole.dispose();
      continue;
    }
    out[own] = whole;
  }
  const unexpected = Object.keys(tensors).filter(
    (key) => !used.has(key) && !IGNORED.test(key) && !ignore(key),
  );
  throwIfMismatched(what, missing, unexpected, mismatched);
  return out;
}

/**
 * Joins the parts of each multi-source plan entry (q, k, v -> c_attn) while a folder is read:
 * its {@link PlanJoiner.take} is the loader's `map` hook. As soon as an entry's last part is read
 * the parts are concatenated and freed, so their memory (back in the backend's pool) holds the
 * next layer's parts, and a model never has every part and every joined tensor at once. Parts
 * that cannot be joined (a missing or mis-shaped one) are handed to applyKeyPlan as read, which
 * reports them.
 */
export class PlanJoiner {
  /** Joined tensors by llmkit key, for applyKeyPlan's `joined`. */
  readonly joined: Record<string, Tensor> = {};
  private readonly owner = new Map<string, string>();
  private readonly waiting = new Map<string, Map<string, Tensor>>();
  private readonly seen = new Set<string>();

  constructor(private readonly plan: KeyPlan) {
    for (const [own, sources] of Object.entries(plan))
      if (sources.length > 1) for (const source of sources) this.owner.set(source, own);
  }

  /** The loader hook: keeps `tensor` (returned) or takes it into a joined entry (null). */
  readonly take = (name: string, tensor: Tensor): Tensor | null => {
    const own = this.owner.get(name);
    if (own === undefined) return tensor;
    if (this.seen.has(name))
      throw new TransformerError('corrupt_file', `tensor ${name} appears in two shards`);
    this.seen.add(name);
    const parts = this.waiting.get(own) ?? new Map<string, Tensor>();
    parts.set(name, tensor);
    this.waiting.set(own, parts);
    const sources = this.plan[own];
    if (parts.size < sources.length) return null;
    const list = sources.map((source) => parts.get(source) as Tensor);
    const [first] = list;
    const joinable = list.every(
      (t) =>
        t.rank === 2 &&
        first.rank === 2 &&
        t.shape[1] === first.shape[1] &&
        t.dtype === first.dtype,
    );
    if (!joinable) return null; // left waiting: handed back by rest()
    this.waiting.delete(own);
    this.joined[own] = cat(list, 0);
    for (const part of list) part.dispose();
    return null;
  };

  /** Parts taken and never joined, by their Hugging Face names (for applyKeyPlan to report). */
  rest(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const parts of this.waiting.values()) for (const [name, t] of parts) out[name] = t;
    return out;
  }

  /** Frees everything taken (on a failed load). */
  dispose(): void {
    for (const t of Object.values(this.joined)) t.dispose();
    for (const t of Object.values(this.rest())) t.dispose();
  }
}

/**
 * The inverse of {@link applyKeyPlan}: llmkit tensors -> Hugging Face keys, splitting fused
 * tensors by the sizes each source has (`sizes[hfKey]` = its dim-0 length).
 */
export function invertKeyPlan(
  state: Record<string, Tensor>,
  plan: KeyPlan,
  sizes: (hfKey: string) => number,
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [own, sources] of Object.entries(plan)) {
    const t = state[own];
    if (!t) continue;
    if (sources.length === 1) {
      out[sources[0]] = t;
      continue;
    }
    let at = 0;
    for (const key of sources) {
      const size = sizes(key);
      out[key] = narrow(t, 0, at, size).contiguous();
      at += size;
    }
  }
  return out;
}

/** The BERT heads {@link encoderConfigFromHuggingFace} recognises. */
export type BertHead = 'base' | 'sequence-classification' | 'masked-lm';

/**
 * Maps a BERT config.json to an {@link EncoderConfig}, the head named by `architectures`, and
 * the number of labels of a classifier.
 *
 * @example
 * ```ts
 * encoderConfigFromHuggingFace({ model_type: 'bert', architectures: ['BertForSequenceClassification'], ... }).head;
 * // 'sequence-classification'
 * ```
 */
export function encoderConfigFromHuggingFace(json: Json): {
  config: EncoderConfig;
  head: BertHead;
  numLabels: number;
} {
  if (json.model_type !== 'bert') configError(WHERE, 'model_type', json.model_type, "'bert'");
  const position = (json.position_embedding_type ?? 'absolute') as string;
  if (position !== 'absolute')
    throw new TransformerError(
      'unsupported',
      `${WHERE}: position_embedding_type ${JSON.stringify(position)} is not supported; expected "absolute"`,
    );
  const activations: Record<string, EncoderConfig['activation']> = {
    gelu: 'gelu',
    gelu_new: 'gelu-tanh',
    relu: 'relu',
    silu: 'silu',
  };
  const act = (json.hidden_act ?? 'gelu') as string;
  if (!activations[act])
    throw new TransformerError(
      'unsupported',
      `${WHERE}: hidden_act ${JSON.stringify(act)} is not supported; supported: ${Object.keys(activations).join(', ')}`,
    );
  const architecture = ((json.architectures as string[] | undefined) ?? [])[0] ?? 'BertModel';
  const head: BertHead =
    architecture === 'BertForSequenceClassification'
      ? 'sequence-classification'
      : architecture === 'BertForMaskedLM'
        ? 'masked-lm'
        : 'base';
  const labels = json.id2label as Record<string, string> | undefined;
  return {
    config: {
      vocabSize: json.vocab_size as number,
      blockSize: json.max_position_embeddings as number,
      nLayer: json.num_hidden_layers as number,
      nHead: json.num_attention_heads as number,
      nEmbd: json.hidden_size as number,
      intermediateSize: json.intermediate_size as number,
      typeVocabSize: (json.type_vocab_size as number | undefined) ?? 2,
      activation: activations[act],
      normEpsilon: (json.layer_norm_eps as number | undefined) ?? 1e-12,
      dropout: 0,
      pooler: head !== 'masked-lm',
    },
    head,
    numLabels: labels ? Object.keys(labels).length : ((json.num_labels as number | undefined) ?? 2),
  };
}

/** BERT's key plan: identity over llmkit's own keys, reading TF-era `gamma` / `beta` names too. */
export function bertKeyPlan(ownKeys: readonly string[], fileKeys: readonly string[]): KeyPlan {
  const present = new Set(fileKeys);
  const plan: KeyPlan = {};
  for (const key of ownKeys) {
    const legacy = key
      .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
      .replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    plan[key] = [present.has(key) || !present.has(legacy) ? key : legacy];
  }
  return plan;
}
