// savePretrained: GPT -> a Hugging Face GPT-2 folder that transformers' from_pretrained reads.
import { dispose, noGrad, writeSafetensors } from '@llmkit/core-tensor';
import { writeFileAtomic } from '@llmkit/utils';
import type { GPT } from '../gpt/model.js';
import { checkGpt2Compatible, huggingFaceConfig, toHuggingFaceStateDict } from './convert.js';

/**
 * Saves a GPT-2-architecture model as Hugging Face's `save_pretrained` does: `config.json` and
 * `model.safetensors` (keys prefixed `transformer.`, `Conv1D` weights `[in, out]`, no `lm_head`
 * when tied). Each file is written atomically. LLaMA-style options (RoPE, RMSNorm, SwiGLU, GQA,
 * no bias) have no GPT-2 layout and are rejected, naming the field.
 *
 * @example
 * ```ts
 * await savePretrained(model, './my-gpt2'); // then in Python: GPT2LMHeadModel.from_pretrained('./my-gpt2')
 * ```
 */
export async function savePretrained(model: GPT, dir: string): Promise<void> {
  checkGpt2Compatible(model.config, 'savePretrained');
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  const tensors = noGrad(() => toHuggingFaceStateDict(model.stateDict()));
  try {
    const bytes = await writeSafetensors(tensors, { format: 'pt' });
    await writeFileAtomic(join(dir, 'model.safetensors'), bytes);
  } finally {
    const own = new Set(Object.values(model.stateDict()));
    dispose(Object.values(tensors).filter((t) => !own.has(t)));
  }
  const config = `${JSON.stringify(huggingFaceConfig(model.config), null, 2)}\n`;
  await writeFileAtomic(join(dir, 'config.json'), config);
}
