// A few training steps of a tiny GPT (embeddings, causal attention, layer norm, MLP, AdamW)
// built from core-tensor ops give the same losses on webgpu as on the js reference backend.
import {
  AdamW,
  crossEntropy,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  manualSeed,
  scaledDotProductAttention,
  setBackend,
  type Tensor,
  tensor,
  tidy,
} from '@llmkit/core-tensor';
import { registerBackend } from '@llmkit/core-tensor/backend';
import { describe, expect, it } from 'vitest';
import { testBackend } from './test-support/harness.js';

const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

const [V, T, C, H] = [17, 8, 16, 2];

class TinyGpt extends Module {
  readonly wte = this.addModule('wte', new Embedding(V, C));
  readonly wpe = this.addModule('wpe', new Embedding(T, C));
  readonly ln1 = this.addModule('ln1', new LayerNorm(C));
  readonly attn = this.addModule('attn', new Linear(C, 3 * C));
  readonly proj = this.addModule('proj', new Linear(C, C));
  readonly ln2 = this.addModule('ln2', new LayerNorm(C));
  readonly fc = this.addModule('fc', new Linear(C, 4 * C));
  readonly out = this.addModule('out', new Linear(4 * C, C));
  readonly lnF = this.addModule('lnF', new LayerNorm(C));
  readonly head = this.addModule('head', new Linear(C, V, { bias: false }));

  forward(ids: Tensor, positions: Tensor): Tensor {
    const [B, L] = ids.shape;
    let x = this.wte.forward(ids).add(this.wpe.forward(positions)); // (B, L, C)
    const [q, k, v] = this.attn
      .forward(this.ln1.forward(x))
      .split(C, -1)
      .map((t) => t.reshape([B, L, H, C / H]).transpose(1, 2)); // (B, H, L, C/H)
    const y = scaledDotProductAttention(q, k, v, { causal: true })
      .transpose(1, 2)
      .reshape([B, L, C]);
    x = x.add(this.proj.forward(y));
    x = x.add(this.out.forward(this.fc.forward(this.ln2.forward(x)).gelu({ approximate: 'tanh' })));
    return this.head.forward(this.lnF.forward(x)); // (B, L, V)
  }
}

async function losses(
  backendName: string,
  steps: number,
): Promise<{ losses: number[]; buffers: number[] }> {
  await setBackend(backendName);
  manualSeed(7);
  const model = new TinyGpt();
  const optimizer = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.1 });
  const ids = tensor(
    Int32Array.from({ length: 2 * T }, (_, i) => (i * 5 + 3) % V),
    { shape: [2, T] },
  );
  const targets = tensor(
    Int32Array.from({ length: 2 * T }, (_, i) => (i * 5 + 8) % V),
    { shape: [2 * T] },
  );
  const positions = tensor(
    Int32Array.from({ length: T }, (_, i) => i),
    { shape: [1, T] },
  );
  const result: number[] = [];
  const buffers: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      optimizer.zeroGrad();
      const logits = model.forward(ids, positions).reshape([2 * T, V]);
      const value = crossEntropy(logits, targets);
      value.backward();
      optimizer.step();
      return value;
    });
    result.push((await loss.data())[0]);
    loss.dispose();
    buffers.push(ids.backend.memory().buffers);
  }
  return { losses: result, buffers };
}

describe.skipIf(!gpu)('training on webgpu', () => {
  it('a tiny GPT gives the same losses as on js for 5 AdamW steps', async () => {
    registerBackend('webgpu', () => gpu!, 30);
    const reference = await losses('js', 5);
    const actual = await losses('webgpu', 5);
    await setBackend('js');
    console.log('js', reference.losses, 'webgpu', actual.losses, gpu!.counters);
    expect(reference.losses[4]).toBeLessThan(reference.losses[0] * 0.9); // it learns
    for (let i = 0; i < 5; i++) expect(actual.losses[i]).toBeCloseTo(reference.losses[i], 4);
    // Kernels are batched: many launches per submit.
    expect(gpu!.counters.submits).toBeLessThan(gpu!.counters.dispatches / 4);
    // No buffer leaks from step to step.
    expect(actual.buffers[4]).toBe(actual.buffers[1]);
  });
});
