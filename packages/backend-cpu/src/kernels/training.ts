// The fused gradient kernels of core-tensor's list: `geluBackward` and `attentionBackward`
// (the attention forward, with its logsumexp output, is in fused.ts). Contiguous float32 only;
// other dtypes return false and the js kernel runs.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor';
import type { NativeKernels } from '../native.js';
import { floatsOf, from, sizeOf } from './tensors.js';

type Kernel = (
  native: NativeKernels,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attributes: KernelAttributes,
) => boolean;

function floats(t: KernelTensor): Float32Array | undefined {
  const data = floatsOf(t);
  return data && from(data, t.offset);
}

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
  );
  return true;
};

/** The gradient kernels by name. */
export const TRAINING: Readonly<Record<string, Kernel>> = {
  geluBackward,
  attentionBackward,
};
