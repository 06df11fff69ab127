// What one decoding step of a LLaMA / Qwen3-style model asks of the backend: grouped-query keys
// and values reach the fused attention kernel unrepeated (straight from the KV cache's buffers),
// and RMSNorm and RoPE run as single kernels. A js backend that records every kernel call stands
// in for a backend with fused kernels; its results are those of the plain js backend.
import { manualSeed, noGrad, setBackend } from '@llmkit/core-tensor';
import {
  type Backend,
  createJsBackend,
  type KernelTensor,
  registerBackend,
} from '@llmkit/core-tensor/backend';
import { describe, expect, it } from 'vitest';
import { KVCache } from '../kv-cache.js';
import { llamaConfig } from './config.js';
import { GPT } from './model.js';

const calls: { kernel: string; inputs: readonly KernelTensor[] }[] = [];
registerBackend('js-recording', (): Backend => {
  const js = createJsBackend({ name: 'js-recording' });
  return {
    ...js,
    run(name, inputs, outputs, attributes) {
      calls.push({ kernel: name, inputs });
      js.run(name, inputs, outputs, attributes);
    },
  };
});

describe('a decoding step with grouped-query attention', () => {
  it('hands the cached keys and values to attention unrepeated; rmsNorm and rope are one kernel each', async () => {
    await setBackend('js-recording');
    manualSeed(3);
    const [nLayer, nHead, nKvHead, nEmbd] = [2, 6, 2, 24];
    const model = new GPT(
      llamaConfig({ vocabSize: 19, blockSize: 64, nLayer, nHead, nKvHead, nEmbd, qkNorm: true }),
    );
    const cache = new KVCache();
    noGrad(() => model.forward([[1, 2, 3, 4, 5]], { cache }).logits.dispose());
    calls.length = 0;
    const { logits } = noGrad(() => model.forward([[6]], { cache }));
    await logits.data();
    const count = (kernel: string) => calls.filter((c) => c.kernel === kernel).length;
    const attention = calls.filter((c) => c.kernel === 'attention');
    expect(attention).toHaveLength(nLayer);
    for (const { inputs } of attention) {
      expect(inputs[0].shape).toEqual([1, nHead, 1, 4]);
      expect(inputs[1].shape).toEqual([1, nKvHead, 6, 4]); // keys of all 6 positions, 2 heads
      expect(inputs[1].strides[1]).toBeGreaterThanOrEqual(6 * 4); // a view of the cache's buffer
    }
    // input, post-attention and final norms plus q_norm and k_norm; rope on q and k
    expect(count('rmsNorm')).toBe(4 * nLayer + 1);
    expect(count('rope')).toBe(2 * nLayer);
    // The only copies write the new token's key and value into the cache: none spans the cache.
    const copies = calls.filter((c) => c.kernel === 'copy');
    expect(copies).toHaveLength(2 * nLayer);
    for (const { inputs } of copies) expect(inputs[0].shape[2]).toBe(1);
    cache.dispose();
    model.dispose();
    await setBackend('js');
  });
});
