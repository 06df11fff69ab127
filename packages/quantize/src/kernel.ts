// The quantized matmul op: y = x W^T with W in packed parts, on the backend's `quantizedMatmul`
// kernel (which dequantizes inside the kernel). Its gradient is for x only (the weights are
// frozen, as QLoRA's base): dx = dy W, the same kernel with `transposed`. Backends without the
// kernel get W decoded on the host for each call (a float copy that lives for one product), and
// with `activations: 'int8'` x's rows quantized on the host too (the kernel's arithmetic up to
// float rounding). With 8-bit activations the gradient is the straight-through one: that of
// the float product.
import {
  add,
  cast,
  cat,
  contiguous,
  fromValues,
  matmul,
  mul,
  narrow,
  noGrad,
  reshape,
  sub,
  type Tensor,
  transpose,
  zeros,
} from '@llmkit/core-tensor';
import {
  defineGradient,
  type KernelAttributes,
  quantizeActivations,
  record,
  runKernel,
} from '@llmkit/core-tensor/backend';
import { QuantizeError } from './errors.js';
import { dequantizeWeight } from './formats/index.js';
import {
  partSpecs,
  type QuantizedWeight,
  type ResolvedQuantizeOptions,
  SCALE_BLOCK,
} from './formats/types.js';

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

/**
 * Rows of `[M, K]` values quantized as llama.cpp's Q8_0 activations (core-tensor's
 * `quantizeActivations`, the kernels' arithmetic) and decoded again: x' = q d per block of 32.
 */
export function roundTripActivations(values: ArrayLike<number>, K: number): Float32Array {
  if (K % 32)
    throw new QuantizeError(
      'invalid_argument',
      `8-bit activations: K ${K} is not a multiple of the block size 32`,
    );
  const out = new Float32Array(values.length);
  for (let start = 0; start < values.length; start += K) {
    const { codes, d } = quantizeActivations(values, start, K);
    for (let j = 0; j < K; j++) out[start + j] = codes[j] * d[j >> 5];
  }
  return out;
}

/** x with its value replaced by the quantized round trip, its gradient passed straight through. */
function straightThrough(x: Tensor, K: number): Tensor {
  const dense = contiguous(x);
  const values = roundTripActivations(dense.dataSync<Float32Array | Float64Array>(), K);
  if (dense !== x) dense.dispose();
  const rounded = fromValues(values, x.shape, {
    backend: x.backend.name,
    dtype: x.dtype,
  });
  const shift = noGrad(() => sub(rounded, x));
  const out = add(x, shift);
  rounded.dispose();
  shift.dispose();
  return out;
}

/** Kernel attributes of a weight. */
export function kernelAttributes(weight: Pick<QuantizedWeight, 'options'>): KernelAttributes {
  const { format, groupSize, symmetric, activations } = weight.options;
  return { format, groupSize, symmetric, transposed: false, activations };
}

/**
 * The packed parts of a `shape` weight in kernel order ({@link partSpecs} order, read with
 * `part(name)`), with nf4's doubly quantized scales expanded to float32 absmax; `temporary` holds
 * what the caller disposes after the product.
 */
export function kernelParts(
  options: ResolvedQuantizeOptions,
  shape: readonly [number, number],
  part: (name: string) => Tensor,
): { parts: Tensor[]; temporary: Tensor[] } {
  if (!options.doubleQuantization)
    return { parts: Object.keys(partSpecs(options, shape)).map(part), temporary: [] };
  const absmax = expandScales(part('absmax_quantized'), part('absmax_scales'), part('absmax_mean'));
  return { parts: [part('weight'), absmax], temporary: [absmax] };
}

/** absmax [N, K/G] = q * scale[block / 256] + mean, from nf4's doubly quantized scales. */
function expandScales(quantized: Tensor, scales: Tensor, mean: Tensor): Tensor {
  const blocks = quantized.size;
  const groups = scales.size;
  let q = cast(reshape(quantized, [blocks]), 'float32');
  if (groups * SCALE_BLOCK > blocks) {
    const pad = zeros([groups * SCALE_BLOCK - blocks], { backend: q.backend.name });
    const padded = cat([q, pad]);
    q.dispose();
    pad.dispose();
    q = padded;
  }
  const grouped = reshape(q, [groups, SCALE_BLOCK]);
  const scaled = mul(grouped, reshape(scales, [groups, 1]));
  const shifted = add(scaled, mean);
  const flat = reshape(shifted, [groups * SCALE_BLOCK]);
  const kept = narrow(flat, 0, 0, blocks);
  const out = reshape(kept, quantized.shape);
  for (const t of [q, grouped, scaled, shifted, flat, kept]) t.dispose();
  return out;
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
    const input = attributes.activations === 'int8' ? straightThrough(x, K) : x;
    const y = matmul(input, weightT);
    if (input !== x) input.dispose();
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
