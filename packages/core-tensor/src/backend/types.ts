/**
 * The Backend interface: what a backend package implements so that every op, the autograd and
 * the optimizers of core-tensor run on it. A backend owns memory (allocate, write, read, free)
 * and runs kernels by name. Ops are written once in core in terms of these kernels; gradients
 * are written in terms of ops, so a backend implements forward kernels only.
 *
 * ## Tensors as kernels see them
 * A kernel receives {@link KernelTensor}s: a buffer plus `dtype`, `shape`, `strides` and
 * `offset` (both in elements). Input views may be non-contiguous: a stride of 0 broadcasts a
 * dimension, swapped strides are a transpose, an offset and smaller shape are a slice. Unless a
 * kernel says otherwise, outputs are fresh contiguous buffers (row-major strides, offset 0) of
 * exactly the output size, allocated by core. Size-0 tensors reach kernels (they must do
 * nothing) and rank-0 tensors (scalars, shape `[]`) too.
 *
 * ## Required kernels (the `js` backend is the definition; see KERNELS.md for a table)
 * - `fill` (outputs `[out]`; attrs `{ value: number }`): every element of `out` = value,
 *   converted to `out.dtype` (bool: value !== 0; int32: truncated).
 * - `copy` (inputs `[x]`, outputs `[out]`): `out` is a strided view with x's shape and dtype,
 *   possibly non-contiguous with an offset (it may be a slice of a larger buffer); element-wise
 *   copy. Used for `contiguous()`, `cat` and the gradients of slicing.
 * - `cast` (inputs `[x]` any dtype incl. storage-only; outputs `[out]` with `attrs.dtype`):
 *   float -> int32/int8/uint8 truncates toward zero (wrapping like C for int8/uint8), to bool is
 *   `x !== 0`, bool -> number is 0/1, to float16/bfloat16 rounds to nearest even, int64 <-> any
 *   goes through Number.
 * - `unary` (inputs `[x]`, outputs `[out]` same shape; attrs `{ op: UnaryOp }`): float dtypes,
 *   plus `neg`/`abs`/`sign` for int32 and `not` for bool (see {@link UnaryOp} for formulas).
 * - `binary` (inputs `[a, b]` already broadcast to the output shape by core with stride-0
 *   dimensions, same dtype; outputs `[out]`; attrs `{ op: BinaryOp }`): arithmetic ops output
 *   the input dtype, comparison ops output `bool`. Integer `div` truncates toward zero.
 * - `where` (inputs `[condition(bool), a, b]` broadcast to the output shape; outputs `[out]`):
 *   `out = condition ? a : b`.
 * - `reduce` (inputs `[x]`, outputs `[out]`; attrs `{ op: ReduceOp, axes: number[] }`, axes sorted,
 *   unique, non-negative): `out` is contiguous with x's shape where every reduced axis is 1
 *   (keep-dim layout). `sum`/`prod` of nothing is 0/1, `max`/`min` of nothing is -inf/+inf.
 *   `argmax`/`argmin` take exactly one axis, output `int32`, and return the first index of the
 *   extreme value (NaN counts as the extreme). Floats accumulate at least in the input precision
 *   (js accumulates in float64).
 * - `matmul` (inputs `[a, b]` of shapes `[...batch, M, K]` and `[...batch, K, N]`, same batch
 *   shape after broadcasting with stride-0 batch dims; outputs `[out]` `[...batch, M, N]`;
 *   attrs `{ transposeA: boolean, transposeB: boolean }`): `out = a @ b`. Core guarantees each
 *   matrix is row-major (`strides[-1] === 1`, `transposeX` false) or column-major
 *   (`strides[-2] === 1`, `transposeX` true: the view is the transpose of a row-major matrix);
 *   batch strides are arbitrary. float32/float64.
 * - `gather` (inputs `[x, index(int32)]` of equal rank; outputs `[out]` of index's shape; attrs
 *   `{ axis }`): `out[i][j][k] = x[i][index[i][j][k]][k]` for axis 1 (torch.gather). The index
 *   view may be broadcast (stride 0). Indices out of `[0, x.shape[axis])` throw.
 * - `scatterAdd` (inputs `[source, index(int32)]` of equal shape; outputs `[out]`, contiguous,
 *   initialised by core, accumulated into; attrs `{ axis }`): `out[i][index[i][j][k]][k] +=
 *   source[i][j][k]` for axis 1. The inverse of gather, used for its gradient.
 *
 * ## Optional fused kernels (core composes them from primitives when `supports(name)` is false)
 * Inputs of fused kernels are contiguous (core makes them so; attention's keys and values are the one
 * exception, below); all are float32/float64.
 * - `softmax` (inputs `[x [R, N]]`, outputs `[out [R, N]]`; attrs `{ log: boolean }`): softmax or
 *   log-softmax over the last dimension, max-subtracted.
 * - `layerNorm` (inputs `[x [R, C], weight [C]?, bias [C]?]`, outputs `[y [R, C], mean [R],
 *   rstd [R]]`; attrs `{ epsilon, hasWeight, hasBias }`): `y = (x - mean) * rstd * w + b` with
 *   biased variance, `rstd = 1 / sqrt(var + epsilon)`.
 * - `layerNormBackward` (inputs `[dy [R, C], x, mean [R], rstd [R], weight [C]?]`, outputs
 *   `[dx [R, C], dweight [C]?, dbias [C]?]`; attrs `{ hasWeight, hasBias }`).
 * - `crossEntropy` (inputs `[logits [R, V], targets int32 [R]]`, outputs `[loss [R]]`; attrs
 *   `{ ignoreIndex, labelSmoothing }`): per-row `-(1 - s) * logp[t] - s * mean(logp)`, 0 for rows
 *   whose target is `ignoreIndex`; other targets outside `[0, V)` throw.
 * - `crossEntropyBackward` (inputs `[logits [R, V], targets [R], gradLoss [R]]`, outputs
 *   `[dlogits [R, V]]`; same attrs): `dlogits = g * (softmax - (1 - s) * onehot - s / V)`, zero
 *   rows for ignored targets.
 * - `attention` (inputs `[q [B, H, T, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv], mask?]`, outputs
 *   `[out [B, H, T, Dv], logsumexp [B, H, T]?]`; attrs `{ causal, scale, hasMask }`):
 *   `softmax(q k^T * scale + m) v`. Grouped-query attention is part of the contract: Hkv divides
 *   H and query head h reads key/value head `floor(h / (H / Hkv))` (Hugging Face's `repeat_kv`
 *   order; Hkv = H is multi-head attention), so a backend that claims `attention` never needs
 *   the keys and values repeated. `causal` hides key s > t + (S - T); the optional bool mask
 *   `[B, H, T, S]` (true = keep) is broadcast by core. Core asks for the second output, the
 *   natural log of each row's softmax denominator `log sum_s exp(score)`, only without a mask,
 *   when it will run `attentionBackward`. Core uses it without dropout. q and the mask are
 *   contiguous; without a gradient, k and v may be views whose (b, h) blocks are dense and
 *   evenly spaced (a KV cache's preallocated buffer): find the spacing with `headStrideOf`.
 * - `attentionBackward` (inputs `[q, k, v, out, dout [B, H, T, Dv], logsumexp [B, H, T]]`,
 *   outputs `[dq, dk, dv]` shaped like q, k, v; attrs `{ causal, scale }`): the gradient of
 *   `attention` without a mask, recomputing the weights `p = exp(score - logsumexp)` row by row:
 *   `dv = p^T dout`, `ds = p * (dout v^T - rowsum(dout * out))`, `dq = ds k * scale`,
 *   `dk = ds^T q * scale`; with grouped heads, dk and dv `[B, Hkv, S, *]` sum over the query
 *   heads of each group. Core uses it only when causal attention has T <= S. Without it,
 *   gradients go through the composed ops.
 * - `rmsNorm` (inputs `[x [R, C], weight [C]?]`, outputs `[y [R, C], rstd [R]]`; attrs
 *   `{ epsilon, hasWeight }`): Hugging Face's LlamaRMSNorm, `rstd = 1 / sqrt(mean(x^2) +
 *   epsilon)` with the mean accumulated in at least float32, `y = x * rstd * weight`. The
 *   gradient is composed from ops with the saved rstd.
 * - `rope` (inputs `[x [B, H, T, D], cos [Bc, 1, T, D], sin [Bc, 1, T, D]]` with Bc = 1 or B and
 *   D even, outputs `[out [B, H, T, D]]`; attrs `{ transpose }`): rotary position embeddings in
 *   the half-split layout (Hugging Face's `rotate_half`), per pair i < D/2, j = i + D/2:
 *   `out_i = x_i cos_i - x_j sin_i`, `out_j = x_j cos_j + x_i sin_j`. With `transpose` the
 *   transposed rotation, `out_i = x_i cos_i + x_j sin_j`, `out_j = x_j cos_j - x_i sin_i`: the
 *   gradient with respect to x (the rotation by -angle when the halves of cos and sin repeat).
 * - `geluBackward` (inputs `[x, dy]`, outputs `[dx]`; attrs `{ approximate: 'none' | 'tanh' }`):
 *   `dx = dy * gelu'(x)` for the exact or tanh-approximated GELU.
 * - `embeddingBackward` (inputs `[ids int32 [N], gradOutput [N, C]]`, outputs `[gradWeight
 *   [V, C]]`): `gradWeight` zeroed then `gradWeight[ids[n]] += gradOutput[n]`.
 * - `adamw` (inputs `[param, grad, m, v]` contiguous of equal size; outputs `[]`; attrs `{ lr,
 *   beta1, beta2, epsilon, weightDecay, step }`): in place, PyTorch's AdamW:
 *   `p -= lr * wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 *   p -= lr * (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps)`.
 * - `quantizedMatmul` (inputs `[x [M, K], ...packed parts of W [N, K]]`, outputs `[out [M, N]]`;
 *   attrs `{ format, groupSize, symmetric, transposed, activations }`): `out = x @ W^T` with W
 *   read from a packed format (`fp16 bf16 int8 int4 nf4 q8_0 q4_0`, layouts in js/quantized.ts
 *   and @llmkit/quantize), dequantized inside the kernel; with `transposed`, x is `[M, N]` and
 *   `out = x @ W` `[M, K]` (the input gradient). `activations: 'int8'` (forward, int8 / int4 /
 *   q8_0 / q4_0) first quantizes x to 8 bits per 32 values and sums integer products, as
 *   llama.cpp does (js/quantized.ts states the arithmetic). Used by @llmkit/quantize's QuantizedLinear,
 *   which decodes W on the host when a backend lacks it.
 *
 * @module
 */
import type { DType, TypedArray } from '../dtype.js';

/**
 * An opaque handle to memory a backend owns. Core reads only `dtype` and `size`; backends put
 * whatever they need beside them (a typed array, a GPU buffer, a native pointer).
 */
export interface BackendBuffer {
  /** The element type stored. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
}

/** A (possibly strided) view of a buffer, as kernels see their inputs and outputs. */
export interface KernelTensor {
  /** The buffer holding the elements. */
  readonly buffer: BackendBuffer;
  /** Element type (equal to `buffer.dtype`). */
  readonly dtype: DType;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** Distance in elements between neighbours along each dimension (0 = broadcast). */
  readonly strides: readonly number[];
  /** Index in elements of the first element within the buffer. */
  readonly offset: number;
}

/**
 * Element-wise unary ops of the `unary` kernel: `neg` -x, `exp`, `log`, `sqrt`, `rsqrt`
 * 1/sqrt(x), `abs`, `sign`, `tanh`, `sigmoid` 1/(1+exp(-x)), `relu` max(x,0), `gelu` exact
 * x*Phi(x) with erf, `geluTanh` 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))), `silu` x*sigmoid(x),
 * `sin`, `cos`, `reciprocal` 1/x, `square` x*x, `floor`, `erf`, `not` (bool).
 */
export type UnaryOp = FloatUnaryOp | 'not';

/** The unary ops defined on floating-point tensors (every `UnaryOp` but the boolean `not`). */
export const FLOAT_UNARY_OPS = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'abs',
  'sign',
  'tanh',
  'sigmoid',
  'relu',
  'gelu',
  'geluTanh',
  'silu',
  'sin',
  'cos',
  'reciprocal',
  'square',
  'floor',
  'erf',
] as const;

/** One of {@link FLOAT_UNARY_OPS}. */
export type FloatUnaryOp = (typeof FLOAT_UNARY_OPS)[number];

/**
 * Element-wise binary ops of the `binary` kernel. Arithmetic: `add sub mul div pow maximum
 * minimum`; comparisons (output bool): `eq ne lt le gt ge`; logic on bool: `and or`.
 */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'and'
  | 'or';

/** Reductions of the `reduce` kernel. */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin';

/** Names of the kernels every backend implements. */
export const REQUIRED_KERNELS = [
  'fill',
  'copy',
  'cast',
  'unary',
  'binary',
  'where',
  'reduce',
  'matmul',
  'gather',
  'scatterAdd',
] as const;

/** Names of the optional fused kernels core uses when a backend supports them. */
export const FUSED_KERNELS = [
  'softmax',
  'layerNorm',
  'layerNormBackward',
  'crossEntropy',
  'crossEntropyBackward',
  'attention',
  'attentionBackward',
  'geluBackward',
  'embeddingBackward',
  'adamw',
  'quantizedMatmul',
  'rmsNorm',
  'rope',
] as const;

/** A kernel name: one of {@link REQUIRED_KERNELS} or {@link FUSED_KERNELS}. */
export type KernelName = (typeof REQUIRED_KERNELS)[number] | (typeof FUSED_KERNELS)[number];

/** Attribute values a kernel accepts. */
export type KernelAttributes = Readonly<
  Record<string, number | boolean | string | readonly number[] | undefined>
>;

/** What a backend reports about its memory. */
export interface BackendMemory {
  /** Buffers allocated and not yet freed. */
  buffers: number;
  /** Bytes of those buffers. */
  bytes: number;
  /** Freed buffers kept for reuse. */
  pooledBuffers: number;
  /** Bytes of the pooled buffers. */
  pooledBytes: number;
}

/**
 * A compute backend. Calls are synchronous to make (a GPU backend enqueues work); only reading
 * values back is asynchronous.
 *
 * @example
 * ```ts
 * const backend = createJsBackend();
 * const buffer = backend.allocate('float32', 3);
 * backend.write(buffer, new Float32Array([1, 2, 3]));
 * console.log(await backend.read(buffer)); // Float32Array [1, 2, 3]
 * ```
 */
export interface Backend {
  /** The registry name, such as `js`, `cpu` or `webgpu`. */
  readonly name: string;
  /** Dtypes this backend computes in; all backends store every {@link DType}. */
  readonly computeDTypes: readonly DType[];
  /** Allocates a buffer of `size` elements; contents are unspecified (core fills or writes it). */
  allocate(dtype: DType, size: number): BackendBuffer;
  /**
   * A buffer of `size` zeros, when the backend can give one without writing it (fresh memory
   * comes zeroed from the OS, page by page as it is touched): a model built to be loaded then
   * takes no memory for its placeholder zeros. Optional: `zeros` falls back to `fill`.
   */
  allocateZeros?(dtype: DType, size: number): BackendBuffer;
  /** Copies `data` (the typed array of the buffer's dtype, `buffer.size` elements) into it. */
  write(buffer: BackendBuffer, data: TypedArray): void;
  /** Reads the whole buffer into a new typed array once pending work has finished. */
  read(buffer: BackendBuffer): Promise<TypedArray>;
  /** Reads synchronously; absent on backends that cannot (WebGPU). */
  readSync?(buffer: BackendBuffer): TypedArray;
  /** Releases a buffer (a backend may pool it). Freeing twice is an error. */
  free(buffer: BackendBuffer): void;
  /** True when the backend implements kernel `name` (all required kernels must be). */
  supports(name: string): boolean;
  /** Runs kernel `name`; see the module comment for each kernel's contract. */
  run(
    name: string,
    inputs: readonly KernelTensor[],
    outputs: readonly KernelTensor[],
    attributes: KernelAttributes,
  ): void;
  /** Live and pooled buffers. */
  memory(): BackendMemory;
  /** Frees pooled buffers back to the system. */
  releasePool?(): void;
}

/** Creates a backend; async factories (WebGPU) need `await setBackend(name)`. */
export type BackendFactory = () => Backend | Promise<Backend>;
