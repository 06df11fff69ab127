// The gradient table: one rule per op, written in terms of ops, so that every backend gets
// autograd from its forward kernels. A rule receives the output gradient `g` and returns one
// gradient per input (null where none is needed). Broadcast inputs are summed back to shape.
import { isFloatDType } from '../dtype.js';
import { zeros } from '../ops/creation.js';
import * as o from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { runKernel } from '../ops/kernel.js';
import { sumToShape } from '../ops/reduce.js';
import { contiguous, expand, permute, reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import type { GradientContext, GradientRule } from './table.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Only computes a gradient for inputs that want one. */
const wants = (c: GradientContext, i: number, f: () => Tensor): Tensor | null =>
  c.inputs[i].requiresGrad ? f() : null;
const toShape = (c: GradientContext, i: number, f: () => Tensor): Tensor | null =>
  wants(c, i, () => sumToShape(f(), c.inputs[i].shape));

/** A rank-2 view that is the transpose of a dense row-major matrix. */
const isTransposedMatrix = (t: Tensor): boolean =>
  t.rank === 2 &&
  t.shape[0] > 1 &&
  t.shape[1] > 1 &&
  t.strides[0] === 1 &&
  t.strides[1] === t.shape[0];

/** One pass of the backend's `geluBackward` kernel instead of ~10 composed element-wise ops. */
function fusedGeluBackward(x: Tensor, grad: Tensor, approximate: 'none' | 'tanh'): Tensor {
  return runKernel(
    'geluBackward',
    [contiguous(x), contiguous(grad)],
    [{ shape: x.shape, dtype: x.dtype }],
    {
      approximate,
    },
  )[0];
}

/** Gradient rules of the core ops (element-wise, reductions, matmul, views), keyed by op. */
export const CORE_GRADIENTS: Readonly<Record<string, GradientRule>> = {
  // Element-wise binary: saved [a, b, out].
  add: (c) => [toShape(c, 0, () => c.grad), toShape(c, 1, () => c.grad)],
  sub: (c) => [toShape(c, 0, () => c.grad), toShape(c, 1, () => o.neg(c.grad))],
  mul: (c) => {
    const [a, b] = c.saved;
    return [toShape(c, 0, () => o.mul(c.grad, b)), toShape(c, 1, () => o.mul(c.grad, a))];
  },
  div: (c) => {
    const [a, b] = c.saved;
    return [
      toShape(c, 0, () => o.div(c.grad, b)),
      toShape(c, 1, () => o.neg(o.div(o.mul(c.grad, a), o.mul(b, b)))),
    ];
  },
  pow: (c) => {
    const [a, b, out] = c.saved;
    return [
      toShape(c, 0, () => o.mul(o.mul(c.grad, b), o.pow(a, o.sub(b, 1)))),
      toShape(c, 1, () => o.mul(o.mul(c.grad, out), o.log(a))),
    ];
  },
  // Ties share the gradient equally, like PyTorch.
  maximum: (c) => extremeGradient(c, o.gt),
  minimum: (c) => extremeGradient(c, o.lt),
  where: (c) => {
    const [condition] = c.saved;
    return [
      null,
      toShape(c, 1, () => o.where(condition, c.grad, 0)),
      toShape(c, 2, () => o.where(condition, 0, c.grad)),
    ];
  },
  // Element-wise unary: saved [x, out].
  neg: (c) => [o.neg(c.grad)],
  exp: ({ grad, saved: [, y] }) => [o.mul(grad, y)],
  log: ({ grad, saved: [x] }) => [o.div(grad, x)],
  sqrt: ({ grad, saved: [, y] }) => [o.div(o.mul(grad, 0.5), y)],
  rsqrt: ({ grad, saved: [, y] }) => [o.mul(o.mul(grad, -0.5), o.mul(y, o.mul(y, y)))],
  abs: ({ grad, saved: [x] }) => [o.mul(grad, o.sign(x))],
  sign: () => [null],
  floor: () => [null],
  tanh: ({ grad, saved: [, y] }) => [o.mul(grad, o.sub(1, o.mul(y, y)))],
  sigmoid: ({ grad, saved: [, y] }) => [o.mul(grad, o.mul(y, o.sub(1, y)))],
  relu: ({ grad, saved: [x] }) => [o.where(o.gt(x, 0), grad, 0)],
  // d/dx x*Phi(x) = Phi(x) + x*phi(x)
  gelu: ({ grad, saved: [x] }) => {
    if (x.backend.supports('geluBackward')) return [fusedGeluBackward(x, grad, 'none')];
    const Phi = o.mul(o.add(o.erf(o.mul(x, Math.SQRT1_2)), 1), 0.5);
    const phi = o.mul(o.exp(o.mul(o.mul(x, x), -0.5)), INV_SQRT_2PI);
    return [o.mul(grad, o.add(Phi, o.mul(x, phi)))];
  },
  geluTanh: ({ grad, saved: [x] }) => {
    if (x.backend.supports('geluBackward')) return [fusedGeluBackward(x, grad, 'tanh')];
    const t = o.tanh(o.mul(o.add(x, o.mul(o.mul(o.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI));
    const dInner = o.mul(o.add(o.mul(o.mul(x, x), 3 * 0.044715), 1), SQRT_2_OVER_PI);
    const d = o.add(
      o.mul(o.add(t, 1), 0.5),
      o.mul(o.mul(o.mul(x, 0.5), o.sub(1, o.mul(t, t))), dInner),
    );
    return [o.mul(grad, d)];
  },
  // d/dx x*s(x) = s(1 + x(1 - s))
  silu: ({ grad, saved: [x] }) => {
    const s = o.sigmoid(x);
    return [o.mul(grad, o.mul(s, o.add(o.mul(x, o.sub(1, s)), 1)))];
  },
  sin: ({ grad, saved: [x] }) => [o.mul(grad, o.cos(x))],
  cos: ({ grad, saved: [x] }) => [o.neg(o.mul(grad, o.sin(x)))],
  reciprocal: ({ grad, saved: [, y] }) => [o.neg(o.mul(grad, o.mul(y, y)))],
  square: ({ grad, saved: [x] }) => [o.mul(o.mul(grad, x), 2)],
  erf: ({ grad, saved: [x] }) => [
    o.mul(grad, o.mul(o.exp(o.neg(o.mul(x, x))), 2 / Math.sqrt(Math.PI))),
  ],
  cast: (c) => [isFloatDType(c.inputs[0].dtype) ? c.grad.to(c.inputs[0].dtype) : null],
  // Reductions.
  sum: (c) => [expand(keepDims(c), c.inputs[0].shape)],
  max: (c) => reduceExtremeGradient(c),
  min: (c) => reduceExtremeGradient(c),
  // Matrix product: saved [a, b] (rank >= 2).
  matmul: (c) => {
    const [a, b] = c.saved;
    return [
      toShape(c, 0, () => matmul(c.grad, transposeLast(b))),
      // b = W^T (a Linear's weight, a transposed view): compute dW = g^T a, contiguous in W's
      // layout, and hand back its transpose, so W's gradient needs no copy.
      toShape(c, 1, () =>
        isTransposedMatrix(b) && a.rank === 2
          ? transposeLast(matmul(transposeLast(c.grad), a))
          : matmul(transposeLast(a), c.grad),
      ),
    ];
  },
  // Views.
  contiguous: (c) => [c.grad],
  reshape: (c) => [reshape(c.grad, c.inputs[0].shape)],
  expand: (c) => [sumToShape(c.grad, c.inputs[0].shape)],
  permute: (c) => {
    const axes = c.attributes.axes as number[];
    const inverse = axes.map((_, i) => axes.indexOf(i));
    return [permute(c.grad, inverse)];
  },
  slice: (c) => {
    // The gradient of a slice is the output gradient placed into zeros of the input's shape.
    const starts = c.attributes.starts as number[];
    const out = zeros(c.inputs[0].shape, { dtype: c.grad.dtype, backend: c.grad.backend.name });
    const offset = starts.reduce((s, start, i) => s + start * out.strides[i], 0);
    out.backend.run(
      'copy',
      [c.grad.kernelView()],
      [{ ...out.kernelView(), shape: c.grad.shape, offset }],
      {},
    );
    return [out];
  },
};

function transposeLast(t: Tensor): Tensor {
  const axes = t.shape.map((_, i) => i);
  [axes[t.rank - 2], axes[t.rank - 1]] = [axes[t.rank - 1], axes[t.rank - 2]];
  return permute(t, axes);
}

/** The output gradient reshaped to the keep-dim layout of a reduction. */
function keepDims(c: GradientContext): Tensor {
  const axes = c.attributes.axes as number[];
  const shape = c.inputs[0].shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return reshape(c.grad, shape);
}

function reduceExtremeGradient(c: GradientContext): (Tensor | null)[] {
  const [x, out] = c.saved;
  const axes = c.attributes.axes as number[];
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const mask = o.eq(x, reshape(out, keptShape)).to(x.dtype);
  const count = sumKeep(mask, axes);
  return [o.div(o.mul(mask, keepDims(c)), count)];
}

function sumKeep(t: Tensor, axes: number[]): Tensor {
  // Local import avoided: sum with keepDim through sumToShape of the kept shape.
  return sumToShape(
    t,
    t.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
  );
}

function extremeGradient(c: GradientContext, better: typeof o.gt): (Tensor | null)[] {
  const [a, b] = c.saved;
  const share = (x: Tensor, y: Tensor) => {
    const wins = better(x, y).to(c.grad.dtype);
    const ties = o.eq(x, y).to(c.grad.dtype);
    return o.mul(c.grad, o.add(wins, o.mul(ties, 0.5)));
  };
  return [toShape(c, 0, () => share(a, b)), toShape(c, 1, () => share(b, a))];
}
