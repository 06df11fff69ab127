// Every op's gradient against central finite differences in float64, on the js backend with its
// fused kernels and on a js backend without them (the composed fallbacks).
import { describe, expect, it } from 'vitest';
import { createJsBackend, FUSED_KERNELS, registerBackend } from '../backend/index.js';
import * as t from '../index.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { gradcheck } from '../testing/gradcheck.js';

registerBackend('js-composed', () =>
  createJsBackend({ name: 'js-composed', withoutKernels: FUSED_KERNELS }),
);

for (const backend of ['js', 'js-composed']) {
  describe(`gradients on ${backend}`, () => {
    const generator = new Generator(7);
    const randn = (shape: number[], scale = 1) => {
      const x = t.randn(shape, { generator, backend, dtype: 'float64' });
      const y = t.mul(x, scale);
      x.dispose();
      return y;
    };
    const positive = (shape: number[]) => {
      const x = t.rand(shape, { generator, backend, dtype: 'float64' });
      const y = t.add(x, 0.5);
      x.dispose();
      return y;
    };
    const ids = (values: number[], shape = [values.length]) =>
      t.tensor(values, { dtype: 'int32', shape, backend });
    const check = (fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]) => {
      const result = gradcheck(fn, inputs);
      expect(result.firstMismatch ?? null).toBeNull();
      expect(result.ok).toBe(true);
    };

    it('binary ops with broadcasting', () => {
      for (const op of [t.add, t.sub, t.mul, t.maximum, t.minimum])
        check(op, [randn([2, 3]), randn([3])]);
      check(t.div, [randn([2, 1, 3]), positive([4, 1])]);
      check(t.pow, [positive([2, 3]), randn([2, 3])]);
      check((a) => t.pow(a, 3), [randn([4])]);
      check((a) => t.sub(2, a), [randn([3])]);
    });

    it('unary ops', () => {
      const ops = [
        t.neg,
        t.exp,
        t.abs,
        t.tanh,
        t.sigmoid,
        t.relu,
        t.silu,
        t.sin,
        t.cos,
        t.square,
        t.erf,
      ];
      for (const op of ops) check(op, [randn([3, 4])]);
      for (const op of [t.log, t.sqrt, t.rsqrt, t.reciprocal]) check(op, [positive([3, 4])]);
      check((x) => t.gelu(x), [randn([3, 4], 2)]);
      check((x) => t.gelu(x, { approximate: 'tanh' }), [randn([3, 4], 2)]);
      check((x) => t.clamp(x, -0.5, 0.5), [randn([10])]);
    });

    it('where and maskedFill', () => {
      const mask = t.tensor([true, false, true], { backend });
      check((a, b) => t.where(mask, a, b), [randn([2, 3]), randn([3])]);
      check((a) => t.maskedFill(a, mask, -1), [randn([2, 3])]);
    });

    it('reductions', () => {
      check((x) => t.sum(x), [randn([2, 3, 4])]);
      check((x) => t.sum(x, [0, 2], { keepDim: true }), [randn([2, 3, 4])]);
      check((x) => t.mean(x, 1), [randn([2, 3, 4])]);
      check((x) => t.max(x, -1), [randn([3, 5])]);
      check((x) => t.min(x, 0, { keepDim: true }), [randn([3, 5])]);
      check((x) => t.max(x), [randn([3, 5])]);
      check((x) => t.variance(x, 1), [randn([3, 5])]);
      check((x) => t.variance(x, undefined, { correction: 0 }), [randn([3, 5])]);
      check((x) => t.std(x, 0), [randn([3, 5])]);
      check((x) => t.logsumexp(x, 1), [randn([3, 5])]);
    });

    it('matmul: batched, broadcast, transposed and 1-D', () => {
      check(t.matmul, [randn([3, 4]), randn([4, 2])]);
      check(t.matmul, [randn([2, 1, 3, 4]), randn([5, 4, 2])]);
      check((a, b) => t.matmul(t.transpose(a), b), [randn([4, 3]), randn([4, 2])]);
      check((a, b) => t.matmul(a, t.transpose(b)), [randn([3, 4]), randn([2, 4])]);
      check(t.matmul, [randn([4]), randn([4, 3])]);
      check(t.matmul, [randn([2, 3, 4]), randn([4])]);
      check(t.matmul, [randn([2, 3, 4]), randn([4, 5])]);
      check((a, b) => t.matmul(t.transpose(a, 0, 1), b), [randn([3, 2, 4]), randn([4, 5])]);
    });

    it('shape ops', () => {
      check((x) => t.reshape(x, [3, -1]), [randn([2, 3, 2])]);
      check((x) => t.reshape(t.transpose(x), [-1]), [randn([2, 3])]);
      check((x) => t.permute(x, [2, 0, 1]), [randn([2, 3, 4])]);
      check((x) => t.expand(x, [4, 2, 3]), [randn([2, 1])]);
      check(
        (x) =>
          t.slice(x, [
            [1, 3],
            [0, -1],
          ]),
        [randn([4, 3])],
      );
      check((x) => t.narrow(x, 1, 1, 2), [randn([2, 4])]);
      check((x) => t.squeeze(t.unsqueeze(x, 0), 0), [randn([3])]);
      check((a, b) => t.cat([a, b], 1), [randn([2, 3]), randn([2, 2])]);
      check((a, b) => t.stack([a, b], 0), [randn([2, 3]), randn([2, 3])]);
      check((x) => t.split(x, [1, 3], 1)[1], [randn([2, 4])]);
      check((x) => t.chunk(x, 2, 0)[0], [randn([4, 2])]);
      check((x) => t.contiguous(t.transpose(x)), [randn([2, 3])]);
      check((x) => t.flatten(x, 1), [randn([2, 3, 2])]);
      check((x) => t.view(x, [6]), [randn([2, 3])]);
    });

    it('indexing ops', () => {
      check((x) => t.gather(x, 1, ids([2, 0, 0, 1, 1, 1], [2, 3])), [randn([2, 4])]);
      check(
        (x, s) => t.scatterAdd(x, 0, ids([1, 1, 0], [1, 3]), s),
        [randn([2, 3]), randn([1, 3])],
      );
      check((x) => t.indexSelect(x, 0, ids([2, 0, 2])), [randn([3, 2])]);
      check((w) => t.embedding(ids([1, 3, 1, 0], [2, 2]), w), [randn([4, 3])]);
      check((x) => t.tril(x), [randn([3, 3])]);
      check((x) => t.triu(x, 1), [randn([2, 3, 3])]);
    });

    it('softmax family', () => {
      check((x) => t.softmax(x), [randn([3, 5])]);
      check((x) => t.softmax(x, 0), [randn([3, 5])]);
      check((x) => t.logSoftmax(x), [randn([2, 3, 5])]);
      check((x) => t.logSoftmax(x, 1), [randn([2, 3, 5])]);
    });

    it('normalization', () => {
      check((x, w, b) => t.layerNorm(x, w, b), [randn([2, 3, 5]), randn([5]), randn([5])]);
      check((x) => t.layerNorm(x), [randn([4, 6])]);
      check((x) => t.layerNorm(t.transpose(x)), [randn([6, 4])]);
      check((x, w) => t.rmsNorm(x, w), [randn([3, 5]), randn([5])]);
      check((x, w) => t.rmsNorm(x, w, { epsilon: 1e-6 }), [randn([2, 3, 7], 3), randn([7])]);
      check((x) => t.rmsNorm(t.transpose(x)), [randn([6, 4])]);
    });

    it('rope, with constant tables (the fused kernel) and with trained ones (composed)', () => {
      const [cos, sin] = [randn([1, 1, 4, 6]), randn([1, 1, 4, 6])];
      check((x) => t.rope(x, cos, sin), [randn([2, 3, 4, 6])]);
      const [cosB, sinB] = [randn([2, 1, 4, 6]), randn([2, 1, 4, 6])];
      check((x) => t.rope(t.mul(x, 2), cosB, sinB), [randn([2, 3, 4, 6])]);
      check(
        (x, c, s) => t.rope(x, c, s),
        [randn([1, 2, 3, 4]), randn([1, 1, 3, 4]), randn([1, 1, 3, 4])],
      );
    });

    it('cross entropy with ignoreIndex, label smoothing and every reduction', () => {
      const targets = ids([1, -100, 4, 0]);
      check((x) => t.crossEntropy(x, targets), [randn([4, 5])]);
      check(
        (x) => t.crossEntropy(x, targets, { labelSmoothing: 0.1, reduction: 'sum' }),
        [randn([4, 5])],
      );
      check(
        (x) => t.crossEntropy(x, ids([1, 2, 3, 0, 1, 2], [2, 3]), { reduction: 'none' }),
        [randn([2, 3, 5])],
      );
      check((a, b) => t.mseLoss(a, b), [randn([3, 2]), randn([3, 2])]);
    });

    it('attention with a causal mask, a bool mask and dropout', () => {
      check(
        (q, k, v) => t.scaledDotProductAttention(q, k, v, { causal: true }),
        [randn([1, 2, 3, 4]), randn([1, 2, 3, 4]), randn([1, 2, 3, 4])],
      );
      // Rank 4 without a mask: the fused attention / attentionBackward kernels where supported.
      check(
        (q, k, v) => t.scaledDotProductAttention(q, k, v, { causal: true }),
        [randn([2, 1, 3, 4]), randn([2, 1, 5, 4]), randn([2, 1, 5, 2])],
      );
      // Grouped-query attention: 6 query heads over 2 (then 1) key/value heads.
      check(
        (q, k, v) => t.scaledDotProductAttention(q, k, v, { causal: true }),
        [randn([2, 6, 3, 4]), randn([2, 2, 5, 4]), randn([2, 2, 5, 3])],
      );
      check(
        (q, k, v) => t.scaledDotProductAttention(q, k, v),
        [randn([1, 4, 2, 3]), randn([1, 1, 3, 3]), randn([1, 1, 3, 2])],
      );
      check(
        (q, k, v) => t.scaledDotProductAttention(q, k, v, { causal: true }),
        [randn([6, 3, 4]), randn([3, 3, 4]), randn([3, 3, 4])],
      );
      check(
        (q, k, v) => t.scaledDotProductAttention(q, k, v, { scale: 0.7 }),
        [randn([1, 2, 4, 3]), randn([1, 2, 2, 3]), randn([1, 2, 2, 5])],
      );
      const mask = t.tensor(
        [
          [true, false, true, true],
          [true, true, false, true],
        ],
        { backend },
      );
      check(
        (q, k, v) => t.scaledDotProductAttention(q, k, v, { mask }),
        [randn([2, 2, 4]), randn([2, 4, 4]), randn([2, 4, 3])],
      );
      check(
        (q, k, v) =>
          t.scaledDotProductAttention(q, k, v, { dropout: 0.3, generator: new Generator(3) }),
        [randn([2, 3, 4]), randn([2, 3, 4]), randn([2, 3, 4])],
      );
    });

    it('several slices of one tensor: covering, partial, overlapping, beside a direct use', () => {
      // x must be a non-leaf for the engine to gather slice gradients: slice tanh(x).
      const parts = (y: t.Tensor, ranges: [number, number][]) =>
        ranges.map(([start, length]) => t.narrow(y, 1, start, length));
      const weigh = (list: t.Tensor[]) =>
        list.reduce(
          (sum, part, i) => t.add(sum, t.sum(t.mul(part, i + 1))),
          t.zeros([], { backend, dtype: 'float64' }),
        );
      check(
        (x) =>
          weigh(
            parts(t.tanh(x), [
              [0, 2],
              [2, 3],
              [5, 1],
            ]),
          ),
        [randn([3, 6])],
      );
      check(
        (x) =>
          weigh(
            parts(t.tanh(x), [
              [1, 2],
              [4, 1],
            ]),
          ),
        [randn([3, 6])],
      );
      check(
        (x) =>
          weigh(
            parts(t.tanh(x), [
              [0, 4],
              [2, 4],
              [3, 1],
            ]),
          ),
        [randn([3, 6])],
      );
      check(
        (x) => {
          const y = t.tanh(x);
          return t.add(
            weigh(
              parts(y, [
                [0, 3],
                [3, 3],
              ]),
            ),
            t.sum(t.mul(y, y)),
          );
        },
        [randn([3, 6])],
      );
    });

    it('dropout with a fixed generator', () => {
      check((x) => t.dropout(x, 0.5, { generator: new Generator(11) }), [randn([4, 4])]);
    });
  });
}
