// The bundled model: a character-level GPT trained on Tiny Shakespeare by
// scripts/train-model.mjs, shipped in public/model/ (config.json, model.safetensors, tokenizer.json).
import { noGrad, readSafetensors, withoutInit } from '@llmkit/core-tensor';
import { CharTokenizer, type CharTokenizerJson } from '@llmkit/tokenizer';
import { GPT, type GPTConfig } from '@llmkit/transformer';

/** The model with its tokenizer. */
export interface BundledModel {
  model: GPT;
  tokenizer: CharTokenizer;
}

let loading: Promise<BundledModel> | null = null;

/** Loads the bundled model once. */
export function bundledModel(): Promise<BundledModel> {
  loading ??= (async () => {
    const base = new URL('model/', document.baseURI);
    const [config, weights, tokenizer] = await Promise.all([
      fetch(new URL('config.json', base)).then((r) => r.json()),
      fetch(new URL('model.safetensors', base)).then((r) => r.arrayBuffer()),
      fetch(new URL('tokenizer.json', base)).then((r) => r.json()),
    ]);
    const model = withoutInit(() => new GPT(config.config as GPTConfig));
    const tensors = await readSafetensors(new Uint8Array(weights));
    noGrad(() => model.loadStateDict(tensors));
    model.eval();
    return { model, tokenizer: CharTokenizer.fromJSON(tokenizer as CharTokenizerJson) };
  })();
  return loading;
}
