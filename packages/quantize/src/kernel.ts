// The quantized matmul op: y = x W^T with W in packed parts, on the backend's `quantizedMatmul`
// kernel (which dequantizes inside the kernel). Its gradient is for x only (the weights are
// frozen, as QLoRA's base): dx = dy W, the same kernel with `transposed`. Backends without the
// kernel get W decoded on the host for each call (a float copy that lives for one product).
import {
  fromValues,
  matmul,
  noGrad,
  reshape,
  type Tensor,
  contiguous,
  transpose,
} from '@llmkit/core-tensor';
import {
  defineGradient,
  type KernelAttributes,
  record,
  runKernel,
} from '@llmkit/core-tensor/backend';
import { dequantizeWeight } from './formats/index.js';
import type { QuantizedWeight } from './formats/types.js';

const OP = 'quantizedLinear';

/** Runs the kernel on `inputs` with one fresh contiguous output of `shape`. */
function run(
  inputs: readonly Tensor[],
  shape: number[],
  dtype: Tensor['dtype'],
  attributes: KernelAttributes,
): Tensor {
  return runKernel('quantizedMatmul', inputs, [{ shape, dtype }], attributes)[0];
}

/** Kernel attributes of a weight. */
export function kernelAttributes(weight: Pick<QuantizedWeight, 'options'>): KernelAttributes {
  const { format, groupSize, symmetric } = weight.options;
  return { format, groupSize, symmetric, transposed: false };
}

/**
 * `x [..., K] @ W^T -> [..., N]` for a packed `W [N, K]` whose parts (in {@link partSpecs}
 * order, nf4 scales already float32) are `parts`. `host` is the weight on the host, used when
 * the backend has no `quantizedMatmul` kernel.
 */
export function quantizedMatmul(
  x: Tensor,
  parts: readonly Tensor[],
  shape: readonly [number, number],
  attributes: KernelAttributes,
  host?: () => QuantizedWeight,
): Tensor {
  const [N, K] = shape;
  const lead = x.shape.slice(0, -1);
  const M = lead.reduce((a, b) => a * b, 1);
  if (!x.backend.supports('quantizedMatmul')) {
    if (!host) throw new Error('quantizedMatmul: the backend has no kernel and no host weight');
    const decoded = fromValues(dequantizeWeight(host()), [N, K], {
      backend: x.backend.name,
      dtype: x.dtype,
    });
    const weightT = transpose(decoded);
    const y = matmul(x, weightT);
    weightT.dispose();
    decoded.dispose();
    return y;
  }
  const x2 = contiguous(reshape(x, [M, K]));
  const out = noGrad(() => run([x2, ...parts], [M, N], x.dtype, attributes));
  const y = record(OP, [x2], out, parts, { ...attributes, N, K });
  const result = reshape(y, [...lead, N]);
  x2.dispose();
  y.dispose();
  return result;
}

defineGradient(OP, ({ grad, saved, attributes }) => {
  const K = Number(attributes.K);
  const dy = contiguous(grad);
  const dx = run([dy, ...saved], [dy.shape[0], K], dy.dtype, {
    ...(attributes as KernelAttributes),
    transposed: true,
  });
  if (dy !== grad) dy.dispose();
  return [dx];
});
