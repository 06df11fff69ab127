// core-tensor's optional fused kernels on the native code: softmax, layerNorm (+ backward),
// rmsNorm, rope, crossEntropy (+ backward), attention (grouped-query too; without a mask, +
// backward), geluBackward, embeddingBackward and adamw. Inputs are contiguous (core guarantees it; attention's keys and
// values may be views of a KV cache's buffer, see headStrideOf) but may start at an offset. Each
// returns false when it cannot run natively (a dtype other than float32, an attention mask), and
// the js kernel runs.
import {
  headStrideOf,
  type KernelAttributes,
  type KernelTensor,
} from '@llmkit/core-tensor/backend';
import type { NativeKernels } from '../native.js';
import { floatsOf, from, intsOf, sizeOf } from './tensors.js';

type Kernel = (
  native: NativeKernels,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attributes: KernelAttributes,
) => boolean;

/** The float32 contents of a contiguous tensor from its offset, or undefined. */
function floats(t: KernelTensor | undefined): Float32Array | undefined {
  if (!t) return undefined;
  const data = floatsOf(t);
  return data && from(data, t.offset);
}

function ints(t: KernelTensor): Int32Array | undefined {
  const data = intsOf(t);
  return data && from(data, t.offset);
}

function lastDim(t: KernelTensor): number {
  return t.shape.length ? t.shape[t.shape.length - 1] : 1;
}

/** A target no valid class equals, for "no ignore index". */
const NO_IGNORE = -2147483648;

function ignoreIndexOf(attributes: KernelAttributes): number {
  const value = Number(attributes.ignoreIndex);
  return Number.isInteger(value) && Math.abs(value) <= 2147483647 ? value : NO_IGNORE;
}

const softmax: Kernel = (native, [x], [out], attributes) => {
  const X = floats(x);
  const O = floats(out);
  if (!X || !O) return false;
  const cols = lastDim(x);
  const rows = cols === 0 ? 0 : sizeOf(out.shape) / cols;
  native.softmax(X, O, rows, cols, Boolean(attributes.log));
  return true;
};

const layerNorm: Kernel = (native, inputs, [y, mean, rstd], attributes) => {
  const X = floats(inputs[0]);
  const weight = attributes.hasWeight ? floats(inputs[1]) : null;
  const bias = attributes.hasBias ? floats(inputs[attributes.hasWeight ? 2 : 1]) : null;
  const Y = floats(y);
  const means = floats(mean);
  const rstds = floats(rstd);
  if (!X || !Y || !means || !rstds || weight === undefined || bias === undefined) return false;
  const cols = lastDim(inputs[0]);
  native.layerNorm(
    X,
    weight,
    bias,
    Y,
    means,
    rstds,
    sizeOf(mean.shape),
    cols,
    Number(attributes.epsilon),
  );
  return true;
};

const layerNormBackward: Kernel = (native, inputs, outputs, attributes) => {
  const [dy, x, mean, rstd] = inputs.map(floats);
  const weight = attributes.hasWeight ? floats(inputs[4]) : null;
  const dx = floats(outputs[0]);
  const dweight = attributes.hasWeight ? floats(outputs[1]) : null;
  const dbias = attributes.hasBias ? floats(outputs[attributes.hasWeight ? 2 : 1]) : null;
  if (!dy || !x || !mean || !rstd || !dx || weight === undefined) return false;
  if (dweight === undefined || dbias === undefined) return false;
  const cols = lastDim(inputs[1]);
  const rows = sizeOf(inputs[2].shape);
  dweight?.subarray(0, cols).fill(0);
  dbias?.subarray(0, cols).fill(0);
  native.layerNormBackward(x, weight, mean, rstd, dy, dx, dweight, dbias, rows, cols);
  return true;
};

const crossEntropy: Kernel = (native, [logits, targets], [loss], attributes) => {
  const L = floats(logits);
  const T = ints(targets);
  const O = floats(loss);
  if (!L || !T || !O) return false;
  const [rows, vocab] = logits.shape;
  const smoothing = Number(attributes.labelSmoothing ?? 0);
  native.crossEntropy(L, T, O, null, rows, vocab, ignoreIndexOf(attributes), smoothing);
  return true;
};

const crossEntropyBackward: Kernel = (
  native,
  [logits, targets, gradLoss],
  [dlogits],
  attributes,
) => {
  const L = floats(logits);
  const T = ints(targets);
  const G = floats(gradLoss);
  const D = floats(dlogits);
  if (!L || !T || !G || !D) return false;
  const [rows, vocab] = logits.shape;
  const smoothing = Number(attributes.labelSmoothing ?? 0);
  native.crossEntropyBackward(L, T, null, G, D, rows, vocab, ignoreIndexOf(attributes), smoothing);
  return true;
};

const attention: Kernel = (native, [q, k, v], [out, logsumexp], attributes) => {
  if (attributes.hasMask) return false;
  const Q = floats(q);
  const K = floats(k);
  const V = floats(v);
  const O = floats(out);
  const L = logsumexp ? floats(logsumexp) : null;
  if (!Q || !K || !V || !O || L === undefined || q.shape.length !== 4) return false;
  const [B, H, T, D] = q.shape;
  const keyStride = headStrideOf(k);
  const valueStride = headStrideOf(v);
  if (keyStride === undefined || valueStride === undefined) return false;
  native.attention(
    Q,
    K,
    V,
    O,
    L,
    B * H,
    T,
    k.shape[2],
    D,
    v.shape[3],
    Number(attributes.scale),
    Boolean(attributes.causal),
    keyStride,
    valueStride,
    H / k.shape[1],
  );
  return true;
};

const embeddingBackward: Kernel = (native, [ids, gradOutput], [gradWeight]) => {
  const I = ints(ids);
  const G = floats(gradOutput);
  const W = floats(gradWeight);
  if (!I || !G || !W) return false;
  const [vocab, dim] = gradWeight.shape;
  W.subarray(0, vocab * dim).fill(0);
  native.embeddingBackward(G, I, W, sizeOf(ids.shape), dim, vocab);
  return true;
};

const adamw: Kernel = (native, [param, grad, m, v], _outputs, attributes) => {
  const P = floats(param);
  const G = floats(grad);
  const M = floats(m);
  const V = floats(v);
  if (!P || !G || !M || !V) return false;
  native.adamw(
    P,
    G,
    M,
    V,
    sizeOf(param.shape),
    Number(attributes.lr),
    Number(attributes.beta1),
    Number(attributes.beta2),
    Number(attributes.epsilon),
    Number(attributes.weightDecay),
    Number(attributes.step),
  );
  return true;
};

/** inputs [x, dy], outputs [dx]; attributes { approximate: 'none' | 'tanh' }. */
const geluBackward: Kernel = (native, [x, dy], [dx], attributes) => {
  const [X, DY, DX] = [floats(x), floats(dy), floats(dx)];
  if (!X || !DY || !DX) return false;
  native.geluBackward(X, DY, DX, sizeOf(x.shape), attributes.approximate === 'tanh');
  return true;
};

/** inputs [q, k, v, out, dout, logsumexp], outputs [dq, dk, dv]. */
const attentionBackward: Kernel = (native, inputs, outputs, attributes) => {
  const [Q, K, V, O, DO, L] = inputs.map(floats);
  const [DQ, DK, DV] = outputs.map(floats);
  if (!Q || !K || !V || !O || !DO || !L || !DQ || !DK || !DV) return false;
  const [B, H, T, D] = inputs[0].shape;
  native.attentionBackward(
    Q,
    K,
    V,
    O,
    DO,
    L,
    DQ,
    DK,
    DV,
    B * H,
    T,
    inputs[1].shape[2],
    D,
    inputs[2].shape[3],
    Number(attributes.scale),
    Boolean(attributes.causal),
    H / inputs[1].shape[1],
  );
  return true;
};

/** inputs [x [R, C], weight?], outputs [y [R, C], rstd [R]]; attributes { epsilon, hasWeight }. */
const rmsNorm: Kernel = (native, inputs, [y, rstd], attributes) => {
  const X = floats(inputs[0]);
  const weight = attributes.hasWeight ? floats(inputs[1]) : null;
  const [Y, R] = [floats(y), floats(rstd)];
  if (!native.rmsNorm || !X || !Y || !R || weight === undefined) return false;
  const [rows, cols] = inputs[0].shape;
  native.rmsNorm(X, weight, Y, R, rows, cols, Number(attributes.epsilon));
  return true;
};

/** inputs [x [B, H, T, D], cos, sin [1 or B, 1, T, D]], outputs [out]; attributes { transpose }. */
const rope: Kernel = (native, [x, cos, sin], [out], attributes) => {
  const [X, C, S, O] = [x, cos, sin, out].map(floats);
  if (!native.rope || !X || !C || !S || !O) return false;
  const [B, H, T, D] = x.shape;
  native.rope(X, C, S, O, B, H, T, D, cos.shape[0], Boolean(attributes.transpose));
  return true;
};

/** The fused kernels by core-tensor kernel name. */
export const FUSED: Readonly<Record<string, Kernel>> = {
  softmax,
  layerNorm,
  layerNormBackward,
  crossEntropy,
  crossEntropyBackward,
  attention,
  attentionBackward,
  geluBackward,
  embeddingBackward,
  adamw,
  rmsNorm,
  rope,
};
