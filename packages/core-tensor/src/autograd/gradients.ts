// The gradient table: one rule per op, keyed by the op name its forward passes to `record`, and
// written in terms of ops, so every backend gets autograd from its forward kernels. A rule gets
// the output gradient and returns one gradient per input (null where none is wanted); broadcast
// inputs are summed back to their shape. Rules of ops with a fused backward kernel
// (`geluBackward`, `layerNormBackward`, ...) use it when the backend has it and compose ops
// otherwise (those longer rules are in fused-gradients.ts). Ops that a backend or another
// package adds register with `defineGradient`.
import { isFloatDType } from '../dtype.js';
import { TensorError } from '../errors.js';
import { zeros } from '../ops/creation.js';
import * as o from '../ops/elementwise.js';
import { gather, scatterAdd } from '../ops/indexing.js';
import { halfLinearInputGradient } from '../ops/linear.js';
import { matmul } from '../ops/matmul.js';
import { sum, sumToShape } from '../ops/reduce.js';
import { runRope } from '../ops/rope.js';
import { expand, narrow, permute, reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { checkpointGradient } from './checkpoint.js';
import {
  attentionGradient,
  crossEntropyGradient,
  embeddingGradient,
  geluGradient,
  layerNormGradient,
  rmsNormGradient,
} from './fused-gradients.js';
import type { InputInfo, OpAttributes } from './node.js';

/** What a gradient rule sees. */
export interface GradientContext {
  /** Gradient of the loss with respect to the op's output. */
  readonly grad: Tensor;
  /** Tensors the forward saved (see each op). */
  readonly saved: readonly Tensor[];
  /** Attributes the forward recorded. */
  readonly attributes: OpAttributes;
  /** Shapes, dtypes and grad flags of the inputs. */
  readonly inputs: readonly InputInfo[];
}

/** A gradient rule: one gradient (or null) per input, written in terms of ops. */
export type GradientRule = (context: GradientContext) => (Tensor | null)[];

type C = GradientContext;

/** Only computes a gradient for inputs that want one. */
const wants = (c: C, i: number, f: () => Tensor): Tensor | null =>
  c.inputs[i].requiresGrad ? f() : null;
/** {@link wants}, summed back to the input's shape (the input was broadcast). */
const toShape = (c: C, i: number, f: () => Tensor): Tensor | null =>
  wants(c, i, () => sumToShape(f(), c.inputs[i].shape));
const axis = (c: C): number => c.attributes.axis as number;

const table: Record<string, GradientRule> = {
  // Element-wise binary: saved [a, b, out] (nothing for add and sub).
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
  maximum: (c) => extremeGradient(c, o.gt), // ties share the gradient equally, like PyTorch
  minimum: (c) => extremeGradient(c, o.lt),
  where: (c) => [
    null,
    toShape(c, 1, () => o.where(c.saved[0], c.grad, 0)),
    toShape(c, 2, () => o.where(c.saved[0], 0, c.grad)),
  ],

  // Element-wise unary: saved [x, out].
  neg: ({ grad }) => [o.neg(grad)],
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
  gelu: ({ grad, saved: [x] }) => [geluGradient(x, grad, 'none')],
  geluTanh: ({ grad, saved: [x] }) => [geluGradient(x, grad, 'tanh')],
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

  // Reductions: saved [x, out].
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

  // Views and copies.
  contiguous: (c) => [c.grad],
  reshape: (c) => [reshape(c.grad, c.inputs[0].shape)],
  expand: (c) => [sumToShape(c.grad, c.inputs[0].shape)],
  permute: (c) => {
    const axes = c.attributes.axes as number[];
    return [
      permute(
        c.grad,
        axes.map((_, i) => axes.indexOf(i)),
      ),
    ];
  },
  // The output gradient placed into zeros of the input's shape. (backward.ts writes the
  // gradients of several slices of one tensor into one buffer instead; see slice-gradients.ts.)
  slice: (c) => [placeSlice(c.grad, c.inputs[0].shape, c.attributes.starts as number[])],
  cat: (c) => {
    let start = 0;
    return (c.attributes.sizes as number[]).map((size, i) => {
      const g = wants(c, i, () => narrow(c.grad, axis(c), start, size));
      start += size;
      return g;
    });
  },

  // Indexing: saved [index].
  gather: (c) => [
    scatterAdd(zerosOf(c.grad, c.inputs[0].shape), axis(c), c.saved[0], c.grad),
    null,
  ],
  scatterAdd: (c) => [c.grad, null, wants(c, 2, () => gather(c.grad, axis(c), c.saved[0]))],
  // x [M, K] @ W^T with a frozen 16-bit W: dx = dy W (the kernel transposed). Saved [W bits].
  halfLinear: ({ grad, saved: [bits], attributes }) => [
    halfLinearInputGradient(grad, bits, attributes.format as string),
  ],
  // The head's loss without its logits: dx and dW were made in the forward pass for a unit
  // upstream gradient (see ops/linear-cross-entropy.ts); the loss is a scalar, so they scale.
  linearCrossEntropy: ({ grad, saved, attributes }) => {
    const [first, second] = saved;
    const dx = attributes.hasX ? first : null;
    const dW = attributes.hasWeight ? (attributes.hasX ? second : first) : null;
    return [dx && o.mul(dx, grad), dW && o.mul(dW, grad)];
  },
  embedding: ({ grad, saved: [ids], attributes }) => [
    embeddingGradient(grad, ids, attributes.numEmbeddings as number),
  ],

  // d softmax: y * (g - sum(g * y)); d logSoftmax: g - exp(y) * sum(g). Saved [out].
  softmax: (c) => {
    const [y] = c.saved;
    return [o.mul(y, o.sub(c.grad, sum(o.mul(c.grad, y), axis(c), { keepDim: true })))];
  },
  logSoftmax: (c) => {
    const [y] = c.saved;
    return [o.sub(c.grad, o.mul(o.exp(y), sum(c.grad, axis(c), { keepDim: true })))];
  },
  // Saved [x, out]: d logsumexp = g * exp(x - out).
  logsumexp: (c) => {
    const [x, out] = c.saved;
    const kept = x.shape.map((d, i) => (i === axis(c) ? 1 : d));
    return [o.mul(reshape(c.grad, kept), o.exp(o.sub(x, reshape(out, kept))))];
  },

  // Fused forward ops (one node each): their backward kernel when the backend has it.
  layerNorm: (c) => layerNormGradient(c),
  crossEntropy: (c) => [reshape(crossEntropyGradient(c), c.inputs[0].shape)],
  scaledDotProductAttention: (c) => attentionGradient(c),
  rmsNorm: (c) => rmsNormGradient(c),
  // Saved [cos, sin]: the transposed rotation (by -angle when the tables' halves repeat).
  rope: (c) => [runRope(c.grad, c.saved[0], c.saved[1], true)],

  // Gradient checkpointing: recompute the block, then backward through it.
  checkpoint: (c) => checkpointGradient(c),
};

/**
 * The gradient rules of every op, keyed by op name. Read-only: add the rule of a new op with
 * {@link defineGradient}.
 *
 * @example
 * ```ts
 * GRADIENTS.mul({ grad, saved: [a, b, out], attributes: {}, inputs }); // [grad * b, grad * a]
 * ```
 */
export const GRADIENTS: Readonly<Record<string, GradientRule>> = table;

/** The ops of core-tensor: their rules above cannot be replaced. */
const CORE_OPS = new Set(Object.keys(table));

/**
 * Adds the gradient rule of an op that a backend or another package defines (its forward calls
 * `record(op, ...)`). Rules of core-tensor's own ops cannot be replaced.
 *
 * @example
 * ```ts
 * // forward: record('double', [x], out)
 * defineGradient('double', ({ grad }) => [mul(grad, 2)]);
 * ```
 */
export function defineGradient(op: string, rule: GradientRule): void {
  if (CORE_OPS.has(op)) {
    throw new TensorError(
      'invalid_argument',
      `defineGradient: '${op}' is a core-tensor op whose gradient is in the table; pick another op name`,
    );
  }
  table[op] = rule;
}

// --- helpers of the short rules above (the longer ones are in fused-gradients.ts) ---------------------------------------------------------------

function zerosOf(like: Tensor, shape: readonly number[]): Tensor {
  return zeros(shape, { dtype: like.dtype, backend: like.backend.name });
}

function transposeLast(t: Tensor): Tensor {
  const axes = t.shape.map((_, i) => i);
  [axes[t.rank - 2], axes[t.rank - 1]] = [axes[t.rank - 1], axes[t.rank - 2]];
  return permute(t, axes);
}

/** A rank-2 view that is the transpose of a dense row-major matrix. */
function isTransposedMatrix(t: Tensor): boolean {
  return (
    t.rank === 2 &&
    t.shape[0] > 1 &&
    t.shape[1] > 1 &&
    t.strides[0] === 1 &&
    t.strides[1] === t.shape[0]
  );
}

/** The output gradient reshaped to the keep-dim layout of a reduction. */
function keepDims(c: C): Tensor {
  const axes = c.attributes.axes as number[];
  return reshape(
    c.grad,
    c.inputs[0].shape.map((d, i) => (axes.includes(i) ? 1 : d)),
  );
}

/** max / min over axes: the gradient goes to the entries equal to the result, shared by ties. */
function reduceExtremeGradient(c: C): (Tensor | null)[] {
  const [x, out] = c.saved;
  const axes = c.attributes.axes as number[];
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const mask = o.eq(x, reshape(out, keptShape)).to(x.dtype);
  return [o.div(o.mul(mask, keepDims(c)), sumToShape(mask, keptShape))];
}

/** maximum / minimum: the winner gets the gradient, ties half each. */
function extremeGradient(c: C, better: typeof o.gt): (Tensor | null)[] {
  const [a, b] = c.saved;
  const share = (x: Tensor, y: Tensor) => {
    const wins = better(x, y).to(c.grad.dtype);
    const ties = o.eq(x, y).to(c.grad.dtype);
    return o.mul(c.grad, o.add(wins, o.mul(ties, 0.5)));
  };
  return [toShape(c, 0, () => share(a, b)), toShape(c, 1, () => share(b, a))];
}

/** `grad` copied into zeros of `shape` at `starts` (the gradient of a slice). */
function placeSlice(grad: Tensor, shape: readonly number[], starts: readonly number[]): Tensor {
  const out = zerosOf(grad, shape);
  const offset = starts.reduce((s, start, i) => s + start * out.strides[i], 0);
  out.backend.run(
    'copy',
    [grad.kernelView()],
    [{ ...out.kernelView(), shape: grad.shape, offset }],
    {},
  );
  return out;
}
