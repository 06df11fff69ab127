import { describe, expect, it } from 'vitest';
import { createJsBackend, registerBackend } from '../backend/index.js';
import * as t from '../index.js';
import { defineGradient, GRADIENTS } from './gradients.js';
import { record } from './node.js';

describe('backward', () => {
  it('accumulates into .grad across calls and takes an explicit gradient', () => {
    const x = t.tensor([1, 2, 3], { requiresGrad: true });
    t.mul(x, 2).backward(t.tensor([1, 10, 100]));
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 20, 200]);
    t.sum(t.mul(x, x)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([4, 24, 206]);
  });

  it('sums gradients of a tensor used twice and flows through views', () => {
    const x = t.tensor([[1, 2], [3, 4]], { requiresGrad: true }); // biome-ignore format: matrix
    const y = t.add(t.mul(x, x.transpose()), x.reshape([4]).reshape([2, 2]));
    y.sum().backward();
    // d/dx_ij of sum(x_ij * x_ji + x_ij) = 2 x_ji + 1
    expect(Array.from(x.grad!.dataSync())).toEqual([3, 7, 5, 9]);
  });

  it('frees the graph after backward unless retainGraph is set', () => {
    const x = t.tensor([1, 2], { requiresGrad: true });
    const y = t.sum(t.exp(x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad!.dataSync()[0]).toBeCloseTo(2 * Math.E, 5);
    expect(() => y.backward()).toThrow(/already freed; pass \{ retainGraph: true \}/);
  });

  it('records nothing under noGrad and again under enableGrad', () => {
    const x = t.tensor([1, 2], { requiresGrad: true });
    expect(t.noGrad(() => t.mul(x, 2)).requiresGrad).toBe(false);
    expect(t.noGrad(() => t.enableGrad(() => t.mul(x, 2))).requiresGrad).toBe(true);
    expect(() => t.sum(t.tensor([1])).backward()).toThrow(/does not require grad/);
    expect(() => t.mul(x, 2).backward()).toThrow(/not a scalar; pass a gradient/);
  });

  it('tidy frees what a throwing function made', () => {
    const before = t.memory().buffers;
    expect(() =>
      t.tidy(() => {
        t.mul(t.randn([3, 3]), 2);
        return t.matmul(t.zeros([2, 3]), t.zeros([4, 5]));
      }),
    ).toThrow(/inner dimensions differ/);
    expect(t.memory().buffers).toBe(before);
  });

  it('disposing an unused graph frees the tensors it saved', () => {
    const x = t.randn([8, 8], { requiresGrad: true });
    const before = t.memory().buffers;
    const y = t.tidy(() => t.sum(t.tanh(t.matmul(x, x))));
    expect(t.memory().buffers).toBeGreaterThan(before + 1); // saved tensors of tanh and matmul
    y.dispose();
    expect(t.memory().buffers).toBe(before);
  });
});

describe('backend registry', () => {
  it('selects by name or priority and moves tensors between backends', async () => {
    registerBackend('js-second', () => createJsBackend({ name: 'js-second' }), -1);
    expect(t.listBackends()).toContain('js-second');
    expect(t.getBackend().name).toBe('js');
    const x = t.tensor([1, 2, 3]);
    const moved = await x.toBackend('js-second');
    expect(moved.backend.name).toBe('js-second');
    expect(() => t.add(x, moved)).toThrow(/different backends \('js' and 'js-second'\)/);
    expect(await t.add(moved, 1).array()).toEqual([2, 3, 4]);
    await expect(t.setBackend('nope')).rejects.toThrow(/unknown backend 'nope'/);
    expect((await t.setBackend('js')).name).toBe('js');
  });
});

describe('cast', () => {
  it('passes gradients between float dtypes and not to integers', () => {
    const x = t.tensor([1.5, -2], { dtype: 'float64', requiresGrad: true });
    t.sum(t.mul(x.to('float32'), 3)).backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(Array.from(x.grad!.dataSync<Float64Array>())).toEqual([3, 3]);
    expect(() => t.add(t.tensor([1], { dtype: 'int32' }), 0.5)).toThrow(
      /scalar 0.5 is not an integer, but the tensor is int32/,
    );
  });
});

describe('gradientCheckpoint', () => {
  it('gives the same gradients as the plain block while keeping fewer buffers', () => {
    const layer = new t.Linear(6, 6, { generator: new t.Generator(4) });
    const block = (h: t.Tensor) => t.tanh(layer.forward(t.gelu(layer.forward(h))));
    const run = (useCheckpoint: boolean) => {
      layer.zeroGrad();
      const x = t.randn([5, 6], { generator: new t.Generator(5), requiresGrad: true });
      const before = t.memory().buffers;
      const y = t.tidy(() => (useCheckpoint ? t.gradientCheckpoint(block, x) : block(x)));
      const held = t.memory().buffers - before;
      t.sum(t.mul(y, y)).backward();
      return {
        held,
        x: Array.from(x.grad!.dataSync()),
        w: Array.from(layer.weight.grad!.dataSync()),
      };
    };
    const plain = run(false);
    const checkpointed = run(true);
    expect(checkpointed.held).toBeLessThan(plain.held);
    for (const [i, v] of checkpointed.x.entries()) expect(v).toBeCloseTo(plain.x[i], 6);
    for (const [i, v] of checkpointed.w.entries()) expect(v).toBeCloseTo(plain.w[i], 6);
  });

  it('keeps checkpoint as a deprecated alias', () => {
    expect(t.checkpoint).toBe(t.gradientCheckpoint);
  });
});

describe('the gradient table', () => {
  it('holds a rule per core op and takes rules of new ops with defineGradient', () => {
    for (const op of ['add', 'matmul', 'slice', 'layerNorm', 'scaledDotProductAttention'])
      expect(typeof GRADIENTS[op]).toBe('function');
    expect(() => defineGradient('mul', ({ grad }) => [grad])).toThrow(/'mul' is a core-tensor op/);
    // An op a backend might add: out = 3x, recorded by hand, its rule registered.
    defineGradient('tripleForTest', ({ grad }) => [t.mul(grad, 3)]);
    const x = t.tensor([1, 2], { requiresGrad: true });
    const y = record(
      'tripleForTest',
      [x],
      t.noGrad(() => t.mul(x, 3)),
    );
    t.sum(t.mul(y, y)).backward(); // d/dx (3x)^2 = 18x
    expect(Array.from(x.grad!.dataSync())).toEqual([18, 36]);
    const z = record(
      'noRuleForTest',
      [x],
      t.noGrad(() => t.mul(x, 1)),
    );
    expect(() => t.sum(z).backward()).toThrow(/no gradient rule for op 'noRuleForTest'/);
  });
});
