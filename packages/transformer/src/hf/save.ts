// savePretrained: GPT -> a Hugging Face GPT-2 folder that transformers' from_pretrained reads.
import { dispose, noGrad, writeSafetensors } from '@llmkit/core-tensor';
import { writeFileAtomic } from '@llmkit/utils';
import type { GPT } from '../gpt/model.js';
import { checkGpt2Compatible, huggingFaceConfig, toHuggingFaceStateDict } from './convert.js';
import { invertKeyPlan, llamaFamilyConfig, llamaKeyPlan } from './families.js';

/** True for a GPT with LLaMA's architecture (RoPE, RMSNorm, SwiGLU, no biases beyond q/k/v). */
function isLlamaFamily(model: GPT): boolean {
  const c = model.config;
  return c.positionEncoding === 'rope' && c.norm === 'rmsnorm' && c.mlp === 'swiglu' && !c.bias;
}

/**
 * Saves a model as Hugging Face's `save_pretrained` does: `config.json` and `model.safetensors`.
 * A GPT-2-architecture model gets GPT-2's layout (keys prefixed `transformer.`, `Conv1D` weights
 * `[in, out]`, no `lm_head` when tied); a LLaMA-style one (RoPE, RMSNorm, SwiGLU, no biases) the
 * Llama layout, or Qwen2's (q/k/v biases) or Qwen3's (q/k norms), with q/k/v and gate/up split
 * back out of llmkit's fused matrices. Each file is written atomically. Mixtures with neither
 * layout are rejected, naming the field.
 *
 * @example
 * ```ts
 * await savePretrained(model, './my-gpt2'); // then in Python: GPT2LMHeadModel.from_pretrained('./my-gpt2')
 * ```
 */
export async function savePretrained(model: GPT, dir: string): Promise<void> {
  const llama = isLlamaFamily(model);
  if (!llama) checkGpt2Compatible(model.config, 'savePretrained');
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  const c = model.config;
  const sizes = (key: string) =>
    /\.q_proj\./.test(key)
      ? c.nHead * c.headSize
      : /\.(k|v)_proj\./.test(key)
        ? c.nKvHead * c.headSize
        : c.intermediateSize;
  const tensors = noGrad(() =>
    llama
      ? invertKeyPlan(model.stateDict(), llamaKeyPlan(c), sizes)
      : toHuggingFaceStateDict(model.stateDict()),
  );
  try {
    const bytes = await writeSafetensors(tensors, { format: 'pt' });
    await writeFileAtomic(join(dir, 'model.safetensors'), bytes);
  } finally {
    const own = new Set(Object.values(model.stateDict()));
    dispose(Object.values(tensors).filter((t) => !own.has(t)));
  }
  const config = `${JSON.stringify(llama ? llamaFamilyConfig(c) : huggingFaceConfig(c), null, 2)}\n`;
  await writeFileAtomic(join(dir, 'config.json'), config);
}
