import { describe, expect, it } from 'vitest';
import {
  Embedding,
  matmul,
  memory,
  randn,
  sum,
  type Tensor,
  TensorError,
  tensor,
  tidy,
  zeros,
} from './index.js';

describe('Tensor basics', () => {
  it('creates from nested arrays and reads back', async () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(x.shape).toEqual([2, 3]);
    expect(x.dtype).toBe('float32');
    expect(await x.array()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from((await x.transpose().data()) as Float32Array)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('computes x*x gradients', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const loss = x.mul(x).sum();
    loss.backward();
    expect(Array.from(x.grad!.dataSync() as Float32Array)).toEqual([2, 4, 6]);
  });

  it('names inner dimensions in matmul errors', () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(
      'matmul: inner dimensions differ: [2,3] @ [4,5]',
    );
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(TensorError);
  });

  it('says how to pass ids when an embedding gets a plain array', () => {
    const wte = new Embedding(10, 4);
    expect(() => wte.forward([1, 2, 3] as unknown as Tensor)).toThrow(
      "embedding: ids must be an int32 Tensor, got an array; wrap them: tensor(ids, { dtype: 'int32' })",
    );
    expect(() => wte.forward(tensor([1, 2]))).toThrow('embedding: ids must be int32, got float32');
    wte.dispose();
  });

  it('rejects use of a disposed tensor', () => {
    const x = randn([2, 2]);
    x.dispose();
    expect(() => sum(x)).toThrow('use of a disposed tensor (shape [2,2], float32)');
  });

  it('tidy frees intermediates', () => {
    const before = memory().buffers;
    const x = randn([4, 4]);
    const y = tidy(() => x.mul(2).add(1).sum());
    expect(memory().buffers).toBe(before + 2);
    x.dispose();
    y.dispose();
    expect(memory().buffers).toBe(before);
  });
});
