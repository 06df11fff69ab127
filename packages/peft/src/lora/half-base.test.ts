// LoRA over a base kept in bfloat16 (what loadPretrained gives for a bf16 Hugging Face folder):
// the base stays frozen and bit-identical, the adapter trains, merging rounds the update into
// bf16 once, and unloading leaves the 16-bit weights frozen.
import { fileURLToPath } from 'node:url';
import { AdamW, noGrad, type Tensor } from '@llmkit/core-tensor';
import { loadPretrained } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { getPeftModel } from '../index.js';
import { maxAbsDiff } from '../testing.js';

const LLAMA_BF16 = fileURLToPath(
  new URL('../../../transformer/fixtures/hf-families/llama-bf16', import.meta.url),
);

describe('LoRA over a bfloat16 base', () => {
  it('trains the adapter, keeps the base, merges and unloads', async () => {
    const base = await loadPretrained(LLAMA_BF16);
    const weight = base.stateDict()['h.0.attn.c_attn.weight'];
    expect(weight.dtype).toBe('bfloat16');
    const before = Array.from(await weight.data<Uint16Array>());
    const peft = getPeftModel(base, {
      method: 'lora',
      r: 4,
      alpha: 8,
      targetModules: ['c_attn', 'c_fc'],
    });
    const optimizer = new AdamW(peft.trainableParameters(), { lr: 1e-2 });
    const ids = [[1, 5, 9, 2, 7, 3, 8, 4]];
    const targets = [[5, 9, 2, 7, 3, 8, 4, 6]];
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      const { loss } = peft.forward(ids, { targets, returnLogits: false });
      losses.push((loss as Tensor).item());
      (loss as Tensor).backward();
      optimizer.step();
      optimizer.zeroGrad();
      (loss as Tensor).dispose();
    }
    expect(losses[7]).toBeLessThan(losses[0]);
    expect(Array.from(await weight.data<Uint16Array>())).toEqual(before);
    peft.eval();
    const adapted = await noGrad(() => peft.forward(ids)).logits.data();
    const merged = peft.mergeAndUnload();
    expect(merged.stateDict()['h.0.attn.c_attn.weight'].dtype).toBe('bfloat16');
    expect(merged.stateDict()['h.0.attn.c_attn.weight'].requiresGrad).toBe(false);
    const after = await noGrad(() => merged.forward(ids)).logits.data();
    // the merged update is rounded to bf16 once: close to the adapted model, not equal
    expect(maxAbsDiff(after, adapted)).toBeLessThan(0.05);
    merged.dispose();
  });
});
