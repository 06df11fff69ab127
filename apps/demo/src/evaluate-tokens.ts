// Validation loss of a language model over a token sequence: `llmkit eval`, and the base-text
// loss `llmkit finetune --task instruction` reports after tuning.
import { noGrad, tidy } from '@llmkit/core-tensor';
import { causalLanguageModelLoss, type LanguageModelBatch } from '@llmkit/trainer';
import type { GPT } from '@llmkit/transformer';

/**
 * Mean next-token loss over `tokens`, cut into consecutive windows of `blockSize` inputs (the last
 * one shorter), so every token after the first is predicted exactly once.
 *
 * 23 tokens, blockSize 8 -> windows [0..8], [8..16], [16..22]: 8 + 8 + 6 = 22 predictions
 */
export async function evaluateTokens(
  model: GPT,
  tokens: readonly number[],
  blockSize: number,
  batchSize: number,
): Promise<{ loss: number; tokens: number; windows: number }> {
  const windows: number[][] = [];
  for (let start = 0; start + 1 < tokens.length; start += blockSize)
    windows.push(tokens.slice(start, start + blockSize + 1) as number[]);
  let total = 0;
  let count = 0;
  // full windows in batches; the shorter last window on its own
  const groups: number[][][] = [];
  const full = windows.filter((w) => w.length === blockSize + 1);
  for (let i = 0; i < full.length; i += batchSize) groups.push(full.slice(i, i + batchSize));
  const last = windows.at(-1);
  if (last && last.length < blockSize + 1) groups.push([last]);
  for (const group of groups) {
    const T = group[0].length - 1;
    const batch: LanguageModelBatch = {
      inputs: Int32Array.from(group.flatMap((w) => w.slice(0, T))),
      targets: Int32Array.from(group.flatMap((w) => w.slice(1))),
      batchSize: group.length,
      blockSize: T,
    };
    const value = noGrad(() => tidy(() => causalLanguageModelLoss(model, batch)));
    total += (await value.data())[0] * group.length * T;
    value.dispose();
    count += group.length * T;
  }
  return { loss: total / count, tokens: count, windows: windows.length };
}
