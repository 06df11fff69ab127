// Text generation from a character-level GPT of a run folder: `llmkit sample`, `llmkit demo` and
// `llmkit rag ask --checkpoint` share it.
import { noGrad, tensor, tidy } from '@llmkit/core-tensor';
import { streamTokens } from '@llmkit/sampling';
import type { CharTokenizer } from '@llmkit/tokenizer';
import type { GPT } from '@llmkit/transformer';

/**
 * The step function `streamTokens` calls: next-token logits of each row, recomputed over its last
 * `blockSize` tokens (exact, and cheap for character models; no KV cache to crop).
 */
export function nextTokenLogits(model: GPT, blockSize: number) {
  return async (rows: readonly (readonly number[])[]): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (const row of rows) {
      const context = row.slice(-blockSize);
      const last = noGrad(() =>
        tidy(() => {
          const input = tensor(Int32Array.from(context), {
            shape: [1, context.length],
            dtype: 'int32',
          });
          const { logits } = model.forward(input, { lastOnly: true }); // [1, 1, V]
          return logits.reshape([logits.shape[2]]);
        }),
      );
      out.push((await last.data<Float32Array>()).slice());
      last.dispose();
    }
    return out;
  };
}

/** Generates a continuation of `promptIds`; `onText` gets each piece as it is decoded. */
export async function generateText(
  model: GPT,
  tokenizer: CharTokenizer,
  blockSize: number,
  promptIds: number[],
  config: Parameters<typeof streamTokens>[2],
  onText: (piece: string) => void = () => {},
): Promise<string> {
  let text = '';
  for await (const event of streamTokens(nextTokenLogits(model, blockSize), [promptIds], config)) {
    const piece = tokenizer.decode([event.token]);
    text += piece;
    onText(piece);
  }
  return text;
}
