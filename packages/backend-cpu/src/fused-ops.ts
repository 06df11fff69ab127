// ADAPTER until core-tensor has fused-gradient hooks (see README "How it works"): drop-in
// versions of two ops whose gradients core composes from many primitive kernels.
//   gelu: core's gradient is ~10 element-wise ops over the activation; here one native pass.
//   scaledDotProductAttention: core materialises the (T x T) scores and softmax for autograd;
//   here the native kernel recomputes them row by row from the saved logsumexp (FlashAttention's
//   backward), so no quadratic tensor is stored.
// On any other backend, dtype or option (mask, dropout) they call core-tensor's op unchanged.
import {
  type AttentionOptions,
  type DType,
  defineGradient,
  type GeluOptions,
  gelu as coreGelu,
  noGrad,
  record,
  scaledDotProductAttention as coreAttention,
  Storage,
  Tensor,
} from '@llmkit/core-tensor';

const GELU_OP = 'backend-cpu.gelu';
const ATTENTION_OP = 'backend-cpu.attention';

/** Runs one of backend-cpu's extra kernels on contiguous inputs, allocating the outputs. */
function runCpuKernel(
  name: string,
  inputs: readonly Tensor[],
  outputs: readonly { shape: readonly number[]; dtype: DType }[],
  attributes: Record<string, number | boolean | string>,
): Tensor[] {
  const backend = inputs[0].backend;
  const made = outputs.map((o) => {
    const size = o.shape.reduce((a, b) => a * b, 1);
    return new Tensor(new Storage(backend, backend.allocate(o.dtype, size)), [...o.shape], o.dtype);
  });
  const views = inputs.map((t) => t.contiguous());
  try {
    backend.run(
      name,
      views.map((t) => t.kernelView()),
      made.map((t) => t.kernelView()),
      attributes,
    );
  } finally {
    views.forEach((view, i) => {
      if (view !== inputs[i]) view.dispose();
    });
  }
  return made;
}

function onCpu(tensors: readonly Tensor[]): boolean {
  return tensors.every(
    (t) =>
      t.dtype === 'float32' &&
      t.backend.supports('attentionBackward') &&
      t.backend === tensors[0].backend,
  );
}

/**
 * GELU whose gradient is one native kernel on the `cpu` backend (core-tensor's `gelu`
 * elsewhere). Same values and options as core-tensor's `gelu`.
 *
 * @example
 * ```ts
 * const h = gelu(fc.forward(x)); // backward: one fused pass instead of ~10 ops
 * ```
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  if (!onCpu([x])) return coreGelu(x, options);
  const y = noGrad(() => coreGelu(x, options));
  return record(GELU_OP, [x], y, [x], { approximate: options.approximate ?? 'none' });
}

/**
 * Scaled dot-product attention whose forward and backward are native kernels on the `cpu`
 * backend, storing no (T x T) tensor; masks and dropout fall back to core-tensor's op.
 *
 * @example
 * ```ts
 * const y = scaledDotProductAttention(q, k, v, { causal: true }); // q, k, v [B, H, T, D]
 * ```
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions = {},
): Tensor {
  const plain =
    !options.mask && !(options.dropout ?? 0) && q.rank === 4 && k.rank === 4 && v.rank === 4;
  if (!plain || !onCpu([q, k, v]) || q.size === 0 || k.shape[2] === 0)
    return coreAttention(q, k, v, options);
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[3]);
  const causal = options.causal ?? false;
  const [B, H, T] = q.shape;
  // Contiguous copies are made once and saved, so the backward pass does not copy again.
  const dense = noGrad(() => [q, k, v].map((x) => x.contiguous()));
  const [out, logsumexp] = noGrad(() =>
    runCpuKernel(
      'attentionForward',
      dense,
      [
        { shape: [B, H, T, v.shape[3]], dtype: 'float32' },
        { shape: [B, H, T], dtype: 'float32' },
      ],
      { scale, causal },
    ),
  );
  const result = record(ATTENTION_OP, [q, k, v], out, [...dense, out, logsumexp], {
    scale,
    causal,
  });
  // record shared what it saved; drop this function's references.
  logsumexp.dispose();
  dense.forEach((x, i) => {
    if (x !== [q, k, v][i]) x.dispose();
  });
  return result;
}

defineGradient(GELU_OP, ({ grad, saved: [x], attributes }) => [
  runCpuKernel('geluBackward', [x, grad], [{ shape: x.shape, dtype: 'float32' }], {
    approximate: String(attributes.approximate),
  })[0],
]);

defineGradient(ATTENTION_OP, ({ grad, saved: [q, k, v, out, logsumexp], attributes }) =>
  runCpuKernel(
    'attentionBackward',
    [q, k, v, out, grad, logsumexp],
    [q, k, v].map((t) => ({ shape: t.shape, dtype: 'float32' as DType })),
    { scale: Number(attributes.scale), causal: Boolean(attributes.causal) },
  ),
);
