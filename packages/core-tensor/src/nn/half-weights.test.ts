// Weights kept in bfloat16 / float16: products and lookups equal the float path on the same
// rounded values, the input still gets its gradient, the weight stays frozen, and modules take
// loaded tensors without copying them.
import { describe, expect, it } from 'vitest';
import { createJsBackend, registerBackend } from '../backend-api.js';
import * as t from '../index.js';

registerBackend('js-no-quantized', () =>
  createJsBackend({ name: 'js-no-quantized', withoutKernels: ['quantizedMatmul'] }),
);

/** A parameter's gradient after backward (TypeScript narrows `p.grad = null` to null). */
const gradOf = (p: t.Tensor) => p.grad as unknown as t.Tensor;

/** max |a - b| / max |b|. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('16-bit weights', () => {
  for (const backend of ['js', 'js-no-quantized'])
    for (const dtype of ['bfloat16', 'float16'] as const)
      it(`linear with a ${dtype} weight equals the float product of the same values (${backend})`, async () => {
        t.manualSeed(3);
        const x = t.randn([2, 3, 40], { backend, requiresGrad: true });
        const weight = t.randn([7, 40], { backend }).to(dtype);
        const bias = t.randn([7], { backend });
        const float = weight.to('float32');
        const y = t.linear(x, weight, bias);
        const reference = t.add(t.matmul(x, t.transpose(float)), bias);
        expect(y.shape).toEqual([2, 3, 7]);
        expect(
          relativeError(await y.data<Float32Array>(), await reference.data<Float32Array>()),
        ).toBeLessThan(1e-6);
        // dx = dy W: the same with the 16-bit weight as with its float copy
        const dy = t.randn([2, 3, 7], { backend });
        t.sum(t.mul(y, dy)).backward();
        const dx = await gradOf(x).data<Float32Array>();
        x.grad = null;
        t.sum(t.mul(reference, dy)).backward();
        expect(relativeError(dx, await gradOf(x).data<Float32Array>())).toBeLessThan(1e-6);
        expect(weight.grad).toBeNull();
      });

  it('Linear and Embedding keep a 16-bit weight frozen, the bias float and trainable', async () => {
    const layer = new t.Linear(16, 4, { dtype: 'bfloat16' });
    expect(layer.weight.dtype).toBe('bfloat16');
    expect(layer.weight.requiresGrad).toBe(false);
    expect(layer.bias?.dtype).toBe('float32');
    expect(layer.bias?.requiresGrad).toBe(true);
    expect(layer.forward(t.randn([3, 16])).shape).toEqual([3, 4]);
    const table = new t.Embedding(10, 6, { dtype: 'float16' });
    const ids = t.tensor([[3, 9]], { dtype: 'int32' });
    const rows = table.forward(ids);
    expect(rows.dtype).toBe('float32');
    const expected = t.embedding(ids, table.weight.to('float32'));
    expect(Array.from(await rows.data())).toEqual(Array.from(await expected.data()));
  });

  it('optimizers refuse a 16-bit parameter, naming it and the way round', () => {
    const layer = new t.Linear(8, 2, { dtype: 'bfloat16' });
    expect(() => new t.AdamW(layer.parameters())).toThrow(
      /parameter 0 of group 0 \[2,8\] is bfloat16, a frozen storage dtype.*dtype 'float32'/,
    );
  });

  it('loadStateDict with assign takes the tensors themselves in their dtype', async () => {
    const model = new t.Sequential(new t.Linear(4, 3), new t.Linear(3, 2, { bias: false }));
    const old = model.stateDict()['0.weight'];
    const weight = t.randn([3, 4]).to('bfloat16');
    const bias = t.tensor([1, 2, 3]);
    model.loadStateDict(
      { '0.weight': weight, '0.bias': bias, '1.weight': t.randn([2, 3]) },
      { assign: true },
    );
    const first = model.layers[0] as t.Linear;
    expect(first.weight).toBe(weight);
    expect(model.stateDict()['0.weight']).toBe(weight);
    expect(old.disposed).toBe(true);
    expect(weight.requiresGrad).toBe(false);
    expect(bias.requiresGrad).toBe(true);
    expect(model.forward(t.ones([1, 4])).shape).toEqual([1, 2]);
  });

  it('zeros from fresh or reused memory are zeros', async () => {
    const dirty = t.full([1000], 7);
    dirty.dispose(); // back to the pool, dirty
    expect(Array.from(await t.zeros([1000]).data()).every((v) => v === 0)).toBe(true);
    expect(Array.from(await t.zeros([1001]).data()).every((v) => v === 0)).toBe(true);
  });
});

describe('linearCrossEntropy', () => {
  for (const [what, dtype, options] of [
    ['mean, float head', 'float32', { chunkSize: 3 }],
    [
      'sum, ignore index, label smoothing',
      'float32',
      { chunkSize: 2, reduction: 'sum', labelSmoothing: 0.1 },
    ],
    ['mean, bfloat16 head', 'bfloat16', { chunkSize: 4 }],
  ] as const)
    it(`equals crossEntropy(linear(x, W)) with its gradients, chunk by chunk (${what})`, async () => {
      t.manualSeed(7);
      const x = t.randn([7, 24], { requiresGrad: true });
      const float = t.randn([50, 24]);
      const weight = dtype === 'float32' ? float.requiresGrad_() : float.to(dtype);
      const targets = t.tensor([3, 49, -100, 0, 17, 17, 8], { dtype: 'int32' });
      const loss = t.linearCrossEntropy(x, weight, targets, options as t.LinearCrossEntropyOptions);
      loss.backward();
      const dx = await gradOf(x).data<Float32Array>();
      const dW = weight.grad ? await weight.grad.data<Float32Array>() : null;
      x.grad = null;
      weight.grad = null;
      const reference = t.crossEntropy(
        t.linear(x, weight),
        targets,
        options as unknown as t.CrossEntropyOptions,
      );
      reference.backward();
      expect(loss.item()).toBeCloseTo(reference.item(), 5);
      expect(relativeError(dx, await gradOf(x).data<Float32Array>())).toBeLessThan(1e-5);
      if (dtype === 'float32') {
        expect(
          relativeError(dW as Float32Array, await gradOf(weight).data<Float32Array>()),
        ).toBeLessThan(1e-5);
      } else expect(dW).toBeNull();
    });

  it('names a bad shape', () => {
    expect(() =>
      t.linearCrossEntropy(t.randn([2, 4]), t.randn([5, 3]), t.tensor([1, 2], { dtype: 'int32' })),
    ).toThrow(/x \[2,4\] and weight \[5,3\] must be \[N, C\] and \[V, C\]/);
  });
});
