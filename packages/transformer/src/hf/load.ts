// loadPretrained: a Hugging Face GPT-2 folder (config.json + model.safetensors) -> GPT.
import { dispose, loadSafetensors, noGrad, type Tensor, withoutInit } from '@llmkit/core-tensor';
import { readFailureCode, TransformerError } from '../errors.js';
import { GPT } from '../gpt/model.js';
import { fromHuggingFaceStateDict, gptConfigFromHuggingFace } from './convert.js';

/** Options of {@link loadPretrained}. */
export interface LoadPretrainedOptions {
  /** Backend for the weights (default: the active one). */
  backend?: string;
}

/**
 * Loads a GPT-2 checkpoint in Hugging Face's layout: `config.json` plus `model.safetensors`, keys
 * with or without the `transformer.` prefix, `lm_head.weight` absent when tied, `Conv1D` weights
 * `[in, out]`, and the `h.N.attn.bias` / `masked_bias` buffers of old files ignored. A file that
 * does not match gets one error listing every missing key, unexpected key and shape mismatch.
 * The model comes back in eval mode (dropout off), like `from_pretrained`.
 *
 * @example
 * ```ts
 * const model = await loadPretrained('./gpt2'); // a folder saved by save_pretrained
 * const [ids] = await model.generate([getEncoding('gpt2').encode('Hello')], { maxNewTokens: 20 });
 * ```
 */
export async function loadPretrained(
  dir: string,
  options: LoadPretrainedOptions = {},
): Promise<GPT> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await fs.readFile(join(dir, 'config.json'), 'utf8'));
  } catch (error) {
    throw new TransformerError(
      readFailureCode(error),
      `loadPretrained: cannot read ${join(dir, 'config.json')}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  // validates the config first; the weights are loaded next, so no initial values are drawn
  const model = withoutInit(() => new GPT(gptConfigFromHuggingFace(json)));
  let tensors: Record<string, Tensor>;
  try {
    tensors = await loadSafetensors(join(dir, 'model.safetensors'), options);
  } catch (error) {
    model.dispose();
    if (error instanceof TransformerError) throw error;
    throw new TransformerError(
      readFailureCode(error),
      `loadPretrained: cannot read ${join(dir, 'model.safetensors')}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    noGrad(() => {
      const expected = Object.fromEntries(
        Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape]),
      );
      const converted = fromHuggingFaceStateDict(tensors, expected, model.config.tieWordEmbeddings);
      model.loadStateDict(converted);
      dispose(Object.values(converted));
    });
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    dispose(Object.values(tensors));
  }
  return model.eval();
}
