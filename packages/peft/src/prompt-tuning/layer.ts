// Prompt tuning's layer: the virtual tokens' embeddings `[numVirtualTokens, nEmbd]` per adapter,
// put in place of the first positions of the token embeddings. The model runs on the input with
// that many placeholder ids in front (so positions count the virtual tokens, as PEFT's
// `inputs_embeds` concatenation does), and the token embedding's forward swaps the placeholders'
// embeddings for the prompt.
import {
  cat,
  embedding,
  type Embedding,
  expand,
  narrow,
  type Tensor,
  unsqueeze,
} from '@llmkit/core-tensor';
import type { GPT } from '@llmkit/transformer';
import { type AdapterWeights, adapterWeightsOf } from '../adapter-weights.js';

/**
 * `[B, n + T, C]` from token embeddings `[B, T, C]` and the prompt `[n, C]`: the prompt first.
 *
 * @example
 * ```ts
 * prependPrompt(randn([2, 5, 16]), randn([3, 16])); // [2, 8, 16]
 * ```
 */
export function prependPrompt(embeddings: Tensor, prompt: Tensor): Tensor {
  const [B] = embeddings.shape;
  const [n, C] = prompt.shape;
  const batch = expand(unsqueeze(prompt, 0), [B, n, C]);
  return cat([batch, embeddings], 1);
}

const layers = new WeakMap<GPT, PromptLayer>();

/** The prompt layer of `model`, creating it the first time. */
export function promptLayerOf(model: GPT): PromptLayer {
  let layer = layers.get(model);
  if (!layer) {
    layer = new PromptLayer(model);
    layers.set(model, layer);
  }
  return layer;
}

/**
 * The prompts of one GPT's adapters. While {@link PromptLayer.injecting} is set, the token
 * embedding replaces the first `numVirtualTokens` positions with the active prompt.
 *
 * @example
 * ```ts
 * const layer = promptLayerOf(gpt);
 * layer.add('default', zeros([8, gpt.config.nEmbd]));
 * ```
 */
export class PromptLayer {
  /** The adapter whose prompt is used, or null. */
  active: string | null = null;
  /** Set during a prompted forward pass. */
  injecting = false;
  /** `prompt_embeddings` per adapter (`[numVirtualTokens, nEmbd]`). */
  readonly prompts: AdapterWeights;

  constructor(readonly model: GPT) {
    this.prompts = adapterWeightsOf(model, 'prompt_embeddings');
  }

  /** Registers `prompt` as adapter `name`'s virtual-token embeddings; returns it. */
  add(name: string, prompt: Tensor): Tensor {
    const stored = this.prompts.set(name, prompt);
    if (this.prompts.size === 1) {
      const wte = this.model.wte as Embedding & { forward(ids: Tensor): Tensor };
      wte.forward = (ids: Tensor) => this.embed(ids);
    }
    return stored;
  }

  /** Removes adapter `name`; the last one gives the token embedding its forward back. */
  remove(name: string): void {
    this.prompts.remove(name);
    if (this.active === name) this.active = null;
    if (this.prompts.size === 0) {
      delete (this.model.wte as { forward?: unknown }).forward;
      layers.delete(this.model);
    }
  }

  /** The prompt of the active adapter, or undefined. */
  get prompt(): Tensor | undefined {
    return this.active === null ? undefined : this.prompts.get(this.active);
  }

  private embed(ids: Tensor): Tensor {
    const full = embedding(ids, this.model.wte.weight);
    const prompt = this.prompt;
    if (!this.injecting || !prompt) return full;
    const n = prompt.shape[0];
    const tokens = narrow(full, 1, n, ids.shape[1] - n); // the placeholders' rows are dropped
    const out = prependPrompt(tokens, prompt);
    tokens.dispose();
    full.dispose();
    return out;
  }
}
