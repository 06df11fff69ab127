// The kernel table of the webgpu backend: kernel name -> launcher.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import type { Runtime } from '../runtime.js';
import { binary, cast, copy, fill, unary, where } from './elementwise.js';
import { adamw, attention } from './fused-attention.js';
import { crossEntropy, crossEntropyBackward } from './fused-loss.js';
import { layerNorm, layerNormBackward, rmsNorm, softmax } from './fused-norm.js';
import { rope } from './fused-rope.js';
import { embeddingBackward, gather, scatterAdd } from './indexing.js';
import { matmul } from './matmul.js';
import { quantizedMatmul } from './quantized.js';
import { reduce } from './reduce.js';

/** A kernel launcher: encodes the launch(es) of one kernel call. */
export type KernelLauncher = (
  runtime: Runtime,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attributes: KernelAttributes,
) => void;

/** Every kernel of the webgpu backend: the required ones and the fused ones. */
export const KERNELS: Record<string, KernelLauncher> = {
  fill: (rt, _inputs, [out], attrs) => fill(rt, out, Number(attrs.value)),
  copy: (rt, [x], [out]) => copy(rt, x, out),
  cast: (rt, [x], [out]) => cast(rt, x, out),
  unary: (rt, [x], [out], attrs) => unary(rt, x, out, attrs),
  binary: (rt, [a, b], [out], attrs) => binary(rt, a, b, out, attrs),
  where: (rt, [c, a, b], [out]) => where(rt, c, a, b, out),
  reduce: (rt, [x], [out], attrs) => reduce(rt, x, out, attrs),
  matmul: (rt, [a, b], [out], attrs) => matmul(rt, a, b, out, attrs),
  gather: (rt, [x, index], [out], attrs) => gather(rt, x, index, out, Number(attrs.axis)),
  scatterAdd: (rt, [source, index], [out], attrs) =>
    scatterAdd(rt, source, index, out, Number(attrs.axis)),
  softmax: (rt, [x], [out], attrs) => softmax(rt, x, out, attrs),
  layerNorm: (rt, inputs, outputs, attrs) => layerNorm(rt, inputs, outputs, attrs),
  layerNormBackward: (rt, inputs, outputs, attrs) => layerNormBackward(rt, inputs, outputs, attrs),
  crossEntropy: (rt, [logits, targets], [loss], attrs) =>
    crossEntropy(rt, logits, targets, loss, attrs),
  crossEntropyBackward: (rt, [logits, targets, gradLoss], [dlogits], attrs) =>
    crossEntropyBackward(rt, logits, targets, gradLoss, dlogits, attrs),
  attention: (rt, inputs, [out], attrs) => attention(rt, inputs, out, attrs),
  embeddingBackward: (rt, [ids, gradOutput], [gradWeight]) =>
    embeddingBackward(rt, ids, gradOutput, gradWeight),
  adamw: (rt, inputs, _outputs, attrs) => adamw(rt, inputs, attrs),
  quantizedMatmul: (rt, inputs, outputs, attrs) => quantizedMatmul(rt, inputs, outputs, attrs),
  rmsNorm: (rt, inputs, outputs, attrs) => rmsNorm(rt, inputs, outputs, attrs),
  rope: (rt, inputs, [out], attrs) => rope(rt, inputs, out, attrs),
};
