// linear(x, weight, bias): y = x W^T + b, the product of every Linear layer and of a head tied to
// an embedding table. A float weight is a matmul (gradients for x, W and b). A bfloat16 or
// float16 weight (a model loaded in its stored dtype, as `torch_dtype="auto"`) stays in its 16
// bits: the backend's `quantizedMatmul` kernel with format `bf16` / `fp16` converts each weight
// in registers and accumulates in float32, so no float copy of W is ever made. Half weights are
// frozen storage, like a QLoRA base: x still gets its gradient (dx = dy W, the same kernel
// transposed), so adapters train over them; W gets none.
import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { type DType, isHalfDType } from '../dtype.js';
import { formatShape, TensorError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { add } from './elementwise.js';
import { runKernel } from './kernel.js';
import { matmul } from './matmul.js';
import { contiguous, reshape, transpose } from './shape.js';

/** The `quantizedMatmul` format of each 16-bit weight dtype. */
const HALF_FORMATS: Partial<Record<DType, string>> = { bfloat16: 'bf16', float16: 'fp16' };

/**
 * `x [..., K] @ weight^T + bias -> [..., N]` for `weight [N, K]` in float32, bfloat16 or float16
 * (PyTorch's `F.linear`). With a 16-bit weight x stays float32 and the product accumulates in
 * float32; the weight gets no gradient.
 *
 * @example
 * ```ts
 * const w = randn([16, 64]).to('bfloat16');
 * linear(randn([2, 64]), w).shape; // [2, 16]
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.rank !== 2)
    throw new TensorError(
      'shape_mismatch',
      `linear: weight must be [outFeatures, inFeatures], got ${formatShape(weight.shape)}`,
    );
  const y = isHalfDType(weight.dtype) ? halfProduct(x, weight) : floatProduct(x, weight);
  if (!bias) return y;
  const out = add(y, bias);
  y.dispose();
  return out;
}

function floatProduct(x: Tensor, weight: Tensor): Tensor {
  const weightT = transpose(weight);
  const y = matmul(x, weightT);
  weightT.dispose();
  return y;
}

function halfProduct(x: Tensor, weight: Tensor): Tensor {
  const [N, K] = weight.shape;
  if (x.rank === 0 || x.shape[x.rank - 1] !== K)
    throw new TensorError(
      'shape_mismatch',
      `linear: input ${formatShape(x.shape)} does not end in the weight's inFeatures ${K} (weight ${weight.dtype} ${formatShape(weight.shape)})`,
    );
  if (x.dtype !== 'float32')
    throw new TensorError(
      'dtype_mismatch',
      `linear: a ${weight.dtype} weight multiplies float32 inputs, got ${x.dtype}`,
    );
  if (!x.backend.supports('quantizedMatmul')) {
    // A backend without the kernel: a float copy of W that lives for this product only.
    const float = noGrad(() => cast(weight, 'float32'));
    const y = floatProduct(x, float);
    float.dispose();
    return y;
  }
  const lead = x.shape.slice(0, -1);
  const M = lead.reduce((a, b) => a * b, 1);
  const flat = reshape(x, [M, K]);
  const x2 = contiguous(flat);
  const bits = contiguous(weight);
  const format = HALF_FORMATS[weight.dtype] as string;
  const out = noGrad(() => halfKernel(x2, bits, [M, N], format, false));
  const y = record('halfLinear', [x2], out, [bits], { format, K });
  const result = reshape(y, [...lead, N]);
  for (const t of [flat, x2, y, bits]) t.dispose(); // views; result and the saved tensors live on
  return result;
}

function halfKernel(
  x: Tensor,
  bits: Tensor,
  shape: [number, number],
  format: string,
  transposed: boolean,
): Tensor {
  return runKernel('quantizedMatmul', [x, bits], [{ shape, dtype: 'float32' }], {
    format,
    groupSize: 0,
    symmetric: true,
    transposed,
  })[0];
}

/** The input gradient of a half-weight product: `dy [M, N] @ W [N, K] -> [M, K]`. */
export function halfLinearInputGradient(grad: Tensor, bits: Tensor, format: string): Tensor {
  const dy = contiguous(grad);
  const dx = halfKernel(dy, bits, [dy.shape[0], bits.shape[1]], format, true);
  if (dy !== grad) dy.dispose();
  return dx;
}
