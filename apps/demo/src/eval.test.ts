import { manualSeed, tensor } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { evaluateTokens } from './evaluate-tokens.js';

describe('evaluateTokens', () => {
  it('predicts every token after the first once, in consecutive windows, weighted per token', async () => {
    manualSeed(5);
    const model = new GPT({ vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 });
    model.eval();
    const tokens = Array.from({ length: 23 }, (_, i) => (i * 7 + 3) % 11);
    // reference: log-softmax in plain JavaScript over each window's logits
    let total = 0;
    for (let start = 0; start + 1 < tokens.length; start += 8) {
      const window = tokens.slice(start, start + 9);
      const T = window.length - 1;
      const ids = tensor(Int32Array.from(window.slice(0, T)), { shape: [1, T], dtype: 'int32' });
      const logits = await model.forward(ids).logits.data<Float32Array>();
      for (let t = 0; t < T; t++) {
        const row = Array.from(logits.slice(t * 11, (t + 1) * 11));
        const max = Math.max(...row);
        const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        total += logSum - row[window[t + 1]];
      }
    }
    for (const batchSize of [1, 2, 16]) {
      const result = await evaluateTokens(model, tokens, 8, batchSize);
      expect(result.tokens).toBe(22);
      expect(result.windows).toBe(3);
      expect(result.loss).toBeCloseTo(total / 22, 5);
    }
  });
});
