// Autograd through the cpu backend: core-tensor's float64 gradcheck (float64 runs on the js
// kernels inside the cpu backend), float32 gradients computed with the native kernels against
// float64 gradients verified by finite differences, and a two-layer MLP trained on cpu and on js
// to the same loss.
import * as t from '@llmkit/core-tensor';
import { createJsBackend, registerBackend } from '@llmkit/core-tensor/backend';
import { gradcheck } from '@llmkit/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from './backend.js';

beforeAll(() => {
  registerBackend('cpu', () => createCpuBackend(), 20);
});
afterAll(async () => {
  await t.setBackend('js');
});

/** Composite functions whose backward passes use every native training kernel. */
const FUNCTIONS: Record<string, { shapes: number[][]; fn: (...x: t.Tensor[]) => t.Tensor }> = {
  'matmul + gelu + layerNorm + crossEntropy': {
    shapes: [[6, 20], [20, 33], [33]],
    fn: (x, w, gamma) => {
      const h = t.layerNorm(t.matmul(x, w).gelu(), gamma, null);
      return t.crossEntropy(
        h,
        t.tensor([1, 0, 32, 7, 7, 3], { dtype: 'int32', backend: x.backend.name }),
      );
    },
  },
  'causal attention + softmax': {
    shapes: [
      [2, 2, 9, 8],
      [2, 2, 9, 8],
      [2, 2, 9, 8],
    ],
    fn: (q, k, v) => t.scaledDotProductAttention(q, k, v, { causal: true }).softmax(-1).sum(),
  },
  'gelu and causal attention (attentionBackward, geluBackward)': {
    shapes: [
      [1, 2, 7, 4],
      [1, 2, 7, 4],
      [1, 2, 7, 6],
    ],
    fn: (q, k, v) => t.scaledDotProductAttention(q, k, v, { causal: true }).gelu().square().sum(),
  },
  'embedding + broadcast add + mean': {
    shapes: [[11, 16], [16]],
    fn: (table, bias) => {
      const ids = t.tensor([3, 3, 10, 0, 5], { dtype: 'int32', backend: table.backend.name });
      return t.add(t.embedding(ids, table), bias).tanh().mean();
    },
  },
};

function inputs(shapes: number[][], backend: string, dtype: t.DType, seed: number): t.Tensor[] {
  const generator = new t.Generator(seed);
  return shapes.map((shape) => t.randn(shape, { generator, backend, dtype, requiresGrad: true }));
}

describe('gradients on cpu', () => {
  for (const [name, { shapes, fn }] of Object.entries(FUNCTIONS)) {
    it(`${name}: float64 gradcheck passes on cpu`, { timeout: 30_000 }, () => {
      expect(gradcheck(fn, inputs(shapes, 'cpu', 'float64', 1)).ok).toBe(true);
    });

    it(`${name}: float32 native gradients match float64 finite-difference-checked ones`, {
      timeout: 30_000,
    }, () => {
      const reference = inputs(shapes, 'js', 'float64', 2);
      expect(gradcheck(fn, reference).ok).toBe(true);
      fn(...reference).backward();
      const native = inputs(shapes, 'cpu', 'float32', 2);
      fn(...native).backward();
      native.forEach((x, i) => {
        const want = reference[i].grad!.dataSync();
        const got = x.grad!.dataSync();
        const scale = Math.max(...Array.from(want, Math.abs));
        for (let j = 0; j < want.length; j++) {
          expect(Math.abs(got[j] - want[j]), `input ${i} element ${j}`).toBeLessThan(
            1e-4 * scale + 1e-6,
          );
        }
      });
    });
  }
});

class Mlp extends t.Module {
  fc1: t.Linear;
  fc2: t.Linear;
  constructor(generator: t.Generator) {
    super();
    this.fc1 = this.addModule('fc1', new t.Linear(16, 64, { generator }));
    this.fc2 = this.addModule('fc2', new t.Linear(64, 5, { generator }));
  }
  forward(x: t.Tensor): t.Tensor {
    return this.fc2.forward(this.fc1.forward(x).gelu());
  }
}

/** Trains the MLP on a seeded 5-class problem for 150 AdamW steps; returns the loss curve. */
async function train(backend: string): Promise<number[]> {
  await t.setBackend(backend);
  const generator = new t.Generator(7);
  const model = new Mlp(generator);
  const x = t.randn([128, 16], { generator });
  const targets = t.argmax(t.matmul(x, t.randn([16, 5], { generator })), -1);
  const optimizer = new t.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.01 });
  const losses: number[] = [];
  for (let step = 0; step < 150; step++) {
    losses.push(
      t.tidy(() => {
        optimizer.zeroGrad();
        const loss = t.crossEntropy(model.forward(x), targets);
        loss.backward();
        optimizer.step();
        return loss.item();
      }),
    );
  }
  return losses;
}

describe('backend-cpu gradient kernels', () => {
  it('run natively for core-tensor attention and gelu and match the composed gradients', async () => {
    const backend = createCpuBackend({ name: 'cpu-profiled', profile: true });
    registerBackend('cpu-profiled', () => backend);
    await t.setBackend('cpu-profiled');
    const shapes = [
      [1, 2, 40, 16],
      [1, 2, 40, 16],
      [1, 2, 40, 16],
    ];
    const [q, k, v] = inputs(shapes, 'cpu-profiled', 'float32', 3);
    const fused = t
      .scaledDotProductAttention(q, k, v, { causal: true })
      .gelu({ approximate: 'tanh' })
      .sum();
    fused.backward();
    const kernels = backend.profile().map((p) => p.kernel);
    for (const name of ['attention', 'attentionBackward', 'geluBackward'])
      expect(kernels).toContain(name);
    // The same function on the js backend without the fused kernels: gradients composed from ops.
    registerBackend('js-composed', () =>
      createJsBackend({
        name: 'js-composed',
        withoutKernels: ['attention', 'attentionBackward', 'geluBackward'],
      }),
    );
    const [cq, ck, cv] = inputs(shapes, 'js-composed', 'float32', 3);
    const composed = t
      .scaledDotProductAttention(cq, ck, cv, { causal: true })
      .gelu({ approximate: 'tanh' })
      .sum();
    composed.backward();
    expect(fused.item()).toBeCloseTo(composed.item(), 3);
    [q, k, v].forEach((x, i) => {
      const got = x.grad!.dataSync();
      const want = [cq, ck, cv][i].grad!.dataSync();
      for (let j = 0; j < want.length; j++) expect(got[j]).toBeCloseTo(want[j], 4);
    });
  });
});

describe('training on cpu', () => {
  // Timeouts are generous because CI machines are shared; each test takes ~1 s when idle.
  it('a two-layer MLP reaches the same loss on cpu and js', { timeout: 60_000 }, async () => {
    const cpu = await train('cpu');
    const js = await train('js');
    expect(js[149]).toBeLessThan(0.2 * js[0]); // it learns
    for (const step of [0, 10, 50, 149]) {
      expect(Math.abs(cpu[step] - js[step]), `step ${step}`).toBeLessThan(1e-3 * js[step] + 1e-5);
    }
  });

  it('keeps the buffer count flat over training steps', async () => {
    await t.setBackend('cpu');
    const layer = new t.Linear(8, 8);
    const optimizer = new t.AdamW(layer.parameters(), { lr: 1e-3 });
    const x = t.randn([4, 8]);
    const step = () =>
      t.tidy(() => {
        optimizer.zeroGrad();
        t.matmul(layer.forward(x), x.transpose(0, 1)).square().mean().backward();
        optimizer.step();
      });
    step();
    const before = t.getBackend().memory().buffers;
    for (let i = 0; i < 200; i++) step();
    expect(t.getBackend().memory().buffers).toBe(before);
  });
});
