// Prompt tuning as a registered method: one `[numVirtualTokens, nEmbd]` tensor, saved as PEFT's
// top-level `prompt_embeddings`. Works on llmkit's GPT (the decoder); its forward returns logits
// for the real tokens only (the virtual positions are dropped) and ignores them in the loss.
// Not handled: generation with the KV cache (`cache`), encoders, prefix tuning / P-tuning.
import {
  Generator,
  init,
  type Module,
  noGrad,
  type Tensor,
  tensor,
  zeros,
} from '@llmkit/core-tensor';
import { type ForwardOptions, GPT } from '@llmkit/transformer';
import { PeftError } from '../errors.js';
import type { AttachedAdapter, PeftMethod } from '../registry.js';
import { type PromptTuningConfig, resolvePromptTuningConfig } from './config.js';
import { promptLayerOf } from './layer.js';

const IGNORE = -100;

type Rows = number[][];

function rowsOf(value: unknown, what: string): Rows {
  if (Array.isArray(value)) return value.map((row) => Array.from(row as ArrayLike<number>, Number));
  const t = value as Tensor;
  if (t && typeof t.dataSync === 'function' && t.rank === 2) {
    const flat = Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
    const [B, T] = t.shape;
    return Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
  }
  throw new PeftError(
    'invalid_argument',
    `prompt tuning: ${what} must be [B, T] rows or a rank-2 tensor`,
  );
}

/** The virtual tokens' first values: N(0, 1), or the embeddings of the init text's tokens. */
function initialPrompt(model: GPT, config: PromptTuningConfig): Tensor {
  const n = config.numVirtualTokens;
  const C = model.config.nEmbd;
  const weight = model.wte.weight;
  if (config.init === 'random') {
    const prompt = zeros([n, C], { dtype: weight.dtype, backend: weight.backend.name });
    const generator = config.seed === undefined ? {} : { generator: new Generator(config.seed) };
    return init.normal(prompt, 0, 1, generator);
  }
  const ids = [...(config.tokenizer?.encode(config.initText as string) ?? [])];
  if (
    ids.length === 0 ||
    ids.some((id) => !Number.isInteger(id) || id < 0 || id >= model.config.vocabSize)
  )
    throw new PeftError(
      'invalid_argument',
      `prompt tuning: initText encodes to ids ${JSON.stringify(ids.slice(0, 8))}, expected ids in [0, ${model.config.vocabSize})`,
    );
  // PEFT: repeat the text's ids until there are enough, then keep the first n
  const chosen = Array.from({ length: n }, (_, i) => ids[i % ids.length]);
  return noGrad(() => {
    const index = tensor(chosen, { dtype: 'int32', backend: weight.backend.name });
    const rows = model.wte.weight.indexSelect(0, index);
    index.dispose();
    return rows;
  });
}

function attachPrompt(
  model: Module,
  config: PromptTuningConfig,
  adapterName: string,
): AttachedAdapter {
  if (!(model instanceof GPT))
    throw new PeftError(
      'unsupported',
      `prompt tuning: needs llmkit's GPT (a decoder with wte), got ${model.constructor.name}`,
    );
  const n = config.numVirtualTokens;
  if (n >= model.config.blockSize)
    throw new PeftError(
      'invalid_config',
      `prompt tuning config: numVirtualTokens must be < blockSize ${model.config.blockSize}, got ${n}`,
    );
  const layer = promptLayerOf(model);
  const prompt = layer.add(adapterName, initialPrompt(model, config));
  return {
    trainable: () => [prompt],
    entries: () => [{ module: null, key: 'prompt_embeddings', tensor: prompt }],
    setActive(active) {
      if (active) layer.active = adapterName;
      else if (layer.active === adapterName) layer.active = null;
    },
    merge() {
      throw new PeftError('unsupported', 'merge: prompt tuning adapters cannot be merged');
    },
    unmerge() {},
    merged: false,
    remove() {
      layer.remove(adapterName);
    },
    forward(base, args) {
      const [inputIds, options = {}] = args as [unknown, ForwardOptions | undefined];
      if (options.cache)
        throw new PeftError(
          'unsupported',
          'prompt tuning: forward with a KV cache is not supported',
        );
      const rows = rowsOf(inputIds, 'inputIds');
      const withPrompt: ForwardOptions = { ...options };
      if (options.attentionMask)
        withPrompt.attentionMask = rowsOf(options.attentionMask, 'attentionMask').map((r) => [
          ...new Array(n).fill(1),
          ...r,
        ]);
      if (options.targets)
        withPrompt.targets = rowsOf(options.targets, 'targets').map((r) => [
          ...new Array(n).fill(IGNORE),
          ...r,
        ]);
      layer.injecting = true;
      try {
        const out = (base as GPT).forward(
          rows.map((r) => [...new Array(n).fill(0), ...r]),
          withPrompt,
        );
        // returnLogits: false gives the loss alone (the virtual tokens' targets are ignored)
        if (!out.logits) return out;
        const T = out.logits.shape[1];
        const logits = out.logits.narrow(1, n, T - n); // the real tokens' logits
        return { ...out, logits };
      } finally {
        layer.injecting = false;
      }
    },
  };
}

/**
 * Prompt tuning (Lester et al., 2021) as a {@link PeftMethod}: registered under `prompt-tuning`
 * / `PROMPT_TUNING`.
 *
 * @example
 * ```ts
 * const peft = getPeftModel(gpt, { method: 'prompt-tuning', numVirtualTokens: 8 });
 * ```
 */
export const promptTuning: PeftMethod<PromptTuningConfig> = {
  name: 'prompt-tuning',
  peftType: 'PROMPT_TUNING',
  mergeable: false,
  resolve: resolvePromptTuningConfig,
  attach: attachPrompt,
  toJson(config, model) {
    const c = (model as GPT).config;
    return {
      num_virtual_tokens: config.numVirtualTokens,
      token_dim: c?.nEmbd ?? null,
      num_transformer_submodules: 1,
      num_attention_heads: c?.nHead ?? null,
      num_layers: c?.nLayer ?? null,
      prompt_tuning_init: config.init === 'text' ? 'TEXT' : 'RANDOM',
      prompt_tuning_init_text: config.initText ?? null,
      tokenizer_name_or_path: config.tokenizerNameOrPath ?? null,
      tokenizer_kwargs: null,
    };
  },
  fromJson(json) {
    // the file's values replace the init, so a random start is enough (no tokenizer needed)
    return resolvePromptTuningConfig({
      numVirtualTokens: json.num_virtual_tokens,
      modulesToSave: json.modules_to_save ?? [],
      tokenizerNameOrPath: json.tokenizer_name_or_path ?? undefined,
    });
  },
};
