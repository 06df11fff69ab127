// Training end to end: XOR, a regression, flat memory over 1,000 steps, optimizer formulas.
import { describe, expect, it } from 'vitest';
import { createJsBackend, registerBackend } from '../backend-api.js';
import * as t from '../index.js';
import { Generator } from '../random.js';

class Mlp extends t.Module {
  fc1: t.Linear;
  fc2: t.Linear;
  constructor(generator: Generator) {
    super();
    this.fc1 = this.addModule('fc1', new t.Linear(2, 8, { generator }));
    this.fc2 = this.addModule('fc2', new t.Linear(8, 1, { generator }));
  }
  forward(x: t.Tensor): t.Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh());
  }
}

describe('training', () => {
  it('a two-layer MLP learns XOR', () => {
    const model = new Mlp(new Generator(0));
    const x = t.tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const y = t.tensor([[0], [1], [1], [0]]);
    const optimizer = new t.AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
    let loss = Number.NaN;
    for (let step = 0; step < 300; step++) {
      loss = t.tidy(() => {
        const l = t.mseLoss(model.forward(x), y);
        optimizer.zeroGrad();
        l.backward();
        optimizer.step();
        return l.item();
      });
    }
    expect(loss).toBeLessThan(1e-3);
    const predictions = t.noGrad(() => model.forward(x)).dataSync();
    expect(Array.from(predictions, (p) => (p > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });

  it('a linear regression with SGD recovers the coefficients', () => {
    const generator = new Generator(1);
    const x = t.randn([64, 3], { generator });
    const trueWeight = t.tensor([[2], [-1], [0.5]]);
    const y = t.add(t.matmul(x, trueWeight), 0.3);
    const layer = new t.Linear(3, 1, { generator });
    const optimizer = new t.SGD(layer.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    for (let step = 0; step < 200; step++) {
      t.tidy(() => {
        optimizer.zeroGrad();
        t.mseLoss(layer.forward(x), y).backward();
        optimizer.step();
      });
    }
    const w = Array.from(layer.weight.dataSync());
    expect(w[0]).toBeCloseTo(2, 3);
    expect(w[1]).toBeCloseTo(-1, 3);
    expect(w[2]).toBeCloseTo(0.5, 3);
    expect(layer.bias!.item()).toBeCloseTo(0.3, 3);
  });

  it('1,000 training steps leave memory() flat', () => {
    const generator = new Generator(2);
    const model = new t.Sequential(
      new t.Linear(8, 16, { generator }),
      new t.LayerNorm(16),
      new t.Lambda((h) => h.gelu()),
      new t.Dropout(0.1, generator),
      new t.Linear(16, 4, { generator }),
    );
    const x = t.randn([16, 8], { generator });
    const targets = t.randint(0, 4, [16], { generator });
    const optimizer = new t.AdamW(model.parameters(), { lr: 1e-3 });
    const step = () =>
      t.tidy(() => {
        optimizer.zeroGrad();
        const loss = t.crossEntropy(model.forward(x), targets, { labelSmoothing: 0.1 });
        loss.backward();
        t.clipGradNorm(model.parameters(), 1);
        optimizer.step();
      });
    step();
    const before = t.memory();
    for (let i = 0; i < 1000; i++) step();
    const after = t.memory();
    expect(after.buffers).toBe(before.buffers);
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
  }, 60_000);

  it('fused and composed AdamW follow the formula, with parameter groups', () => {
    const run = (backend: string) => {
      const p = t.tensor([1, -2, 3], { backend, requiresGrad: true });
      const q = t.tensor([0.5], { backend, requiresGrad: true });
      const optimizer = new t.AdamW([{ params: [p] }, { params: [q], weightDecay: 0 }], {
        lr: 0.1,
        weightDecay: 0.5,
      });
      for (let i = 0; i < 3; i++) {
        optimizer.zeroGrad();
        t.tidy(() => t.add(t.sum(t.mul(p, p)), t.sum(t.mul(q, 3))).backward());
        optimizer.step();
      }
      return [...Array.from(p.dataSync()), q.item()];
    };
    // Reference: PyTorch's AdamW written out for one scalar.
    const reference = (p0: number, grad: (p: number) => number, wd: number) => {
      let [p, m, v] = [p0, 0, 0];
      for (let step = 1; step <= 3; step++) {
        const g = grad(p);
        p -= 0.1 * wd * p;
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        p -= (0.1 * (m / (1 - 0.9 ** step))) / (Math.sqrt(v / (1 - 0.999 ** step)) + 1e-8);
      }
      return p;
    };
    const expected = [
      ...[1, -2, 3].map((p0) => reference(p0, (p) => 2 * p, 0.5)),
      reference(0.5, () => 3, 0),
    ];
    registerBackend('js-no-adamw', () =>
      createJsBackend({ name: 'js-no-adamw', withoutKernels: ['adamw'] }),
    );
    for (const backend of ['js', 'js-no-adamw']) {
      const got = run(backend);
      for (const [i, value] of got.entries()) expect(value).toBeCloseTo(expected[i], 5);
    }
  });

  it('SGD momentum matches the formula and optimizer state round-trips', () => {
    const p = t.tensor([1, 2], { requiresGrad: true });
    const optimizer = new t.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const step = () => {
      optimizer.zeroGrad();
      t.tidy(() => t.sum(t.mul(p, p)).backward());
      optimizer.step();
    };
    step();
    step();
    let [a, buffer] = [1, 0];
    for (let i = 0; i < 2; i++) {
      const g = 2 * a + 0.01 * a;
      buffer = i === 0 ? g : 0.9 * buffer + g;
      a -= 0.1 * buffer;
    }
    expect(p.dataSync()[0]).toBeCloseTo(a, 5);
    const saved = optimizer.stateDict();
    const twin = new t.SGD([t.tensor([0, 0], { requiresGrad: true })], { lr: 1 });
    twin.loadStateDict(saved);
    expect(twin.paramGroups[0].options.momentum).toBe(0.9);
    expect(Array.from(twin.stateDict().state[0].tensors.momentumBuffer.dataSync())).toEqual(
      Array.from(saved.state[0].tensors.momentumBuffer.dataSync()),
    );
  });

  it('clipGradNorm scales gradients to the max norm', () => {
    const a = t.tensor([3, 0], { requiresGrad: true });
    const b = t.tensor([4], { requiresGrad: true });
    t.add(t.sum(t.mul(a, t.tensor([3, 0]))), t.sum(t.mul(b, 4))).backward();
    const norm = t.clipGradNorm([a, b], 1);
    expect(norm.item()).toBeCloseTo(5, 5);
    expect(Array.from(a.grad!.dataSync())).toEqual([expect.closeTo(0.6, 5), 0]);
    expect(b.grad!.item()).toBeCloseTo(0.8, 5);
  });
});

describe('Module', () => {
  it('names parameters, reports state dict problems and loads strictly', () => {
    const model = new t.Sequential(new t.Linear(2, 3), new t.LayerNorm(3));
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
    ]);
    expect(model.parameterCount()).toBe(6 + 3 + 3 + 3);
    const other = new t.Sequential(new t.Linear(2, 3), new t.LayerNorm(3));
    other.loadStateDict(model.stateDict());
    expect(Array.from(other.stateDict()['0.weight'].dataSync())).toEqual(
      Array.from(model.stateDict()['0.weight'].dataSync()),
    );
    const broken = { ...model.stateDict(), extra: t.zeros([1]), '1.bias': t.zeros([4]) };
    delete (broken as Record<string, t.Tensor>)['0.bias'];
    expect(() => other.loadStateDict(broken)).toThrow(
      'loadStateDict: missing keys: 0.bias; unexpected keys: extra; shape mismatches: 1.bias: [4] vs [3]',
    );
    const report = other.loadStateDict(broken, { strict: false });
    expect(report).toEqual({
      missing: ['0.bias'],
      unexpected: ['extra'],
      mismatched: ['1.bias: [4] vs [3]'],
    });
  });

  it('train/eval switch dropout and apply visits every module', () => {
    const model = new t.Sequential(new t.Dropout(0.5), new t.Linear(4, 4));
    model.eval();
    const x = t.ones([2, 4]);
    expect(Array.from(model.layers[0].forward(x).dataSync())).toEqual(Array.from(x.dataSync()));
    const visited: string[] = [];
    model.apply((m) => visited.push(m.constructor.name));
    expect(visited).toEqual(['Dropout', 'Linear', 'Sequential']);
    model.train();
    const dropped = Array.from(model.layers[0].forward(t.ones([100])).dataSync());
    expect(dropped.some((v) => v === 0)).toBe(true);
    expect(dropped.every((v) => v === 0 || v === 2)).toBe(true);
  });

  it('initialisers have the requested statistics', () => {
    const w = t.init.normal(t.zeros([100, 100]), 0, 0.02, { generator: new Generator(3) });
    const values = w.dataSync();
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeCloseTo(0.02, 3);
    const u = t.init.xavierUniform(t.zeros([30, 20])).dataSync();
    const bound = Math.sqrt(6 / 50);
    expect(Math.max(...u)).toBeLessThanOrEqual(bound);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-bound);
  });
});
