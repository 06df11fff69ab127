// Loads the native addon (build/Release/llmkit_cpu.node when compiled from source, else the
// prebuild in prebuilds/<platform>-<arch>/, see prebuild.ts) and types its
// functions. Every function checks its arguments in C++ and throws a RangeError rather than read
// or write outside the typed arrays it is given. Argument order mirrors src/native/addon.cc.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpuBackendError } from './errors.js';
import { findPrebuild } from './prebuild.js';

/**
 * The native kernels, one function per kernel, over raw typed arrays (row-major). Most users never
 * call these: the `cpu` backend calls them for core-tensor's ops. They are public for benchmarks
 * and for code that wants one fused kernel without tensors.
 */
export interface NativeKernels {
  /**
   * Batched SGEMM: `C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]` for `b < batch`, where
   * `op(A)` is `m x k` (`A[i * lda + p]`, or `A[p * lda + i]` when `transposeA`) and `op(B)` is
   * `k x n`. Each operand starts at its offset and advances by its stride per batch entry (0
   * broadcasts). `beta = 0` never reads C.
   */
  gemm(
    transposeA: boolean,
    transposeB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    aOffset: number,
    lda: number,
    strideA: number,
    b: Float32Array,
    bOffset: number,
    ldb: number,
    strideB: number,
    beta: number,
    c: Float32Array,
    cOffset: number,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
  /** Softmax (or log-softmax when `log`) over each of `rows` rows of `cols`; `y` may be `x`. */
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void;
  /** Gradient of softmax (from its output `y`) or of log-softmax (from its output). */
  softmaxBackward(
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    rows: number,
    cols: number,
    log: boolean,
  ): void;
  /** LayerNorm over rows of `cols`; saves `mean` and `rstd` (one per row) when given. */
  layerNorm(
    x: Float32Array,
    weight: Float32Array | null,
    bias: Float32Array | null,
    y: Float32Array,
    mean: Float32Array | null,
    rstd: Float32Array | null,
    rows: number,
    cols: number,
    epsilon: number,
  ): void;
  /** LayerNorm gradient: writes `dx`, adds into `dweight` and `dbias` when given. */
  layerNormBackward(
    x: Float32Array,
    weight: Float32Array | null,
    mean: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dweight: Float32Array | null,
    dbias: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  /** GELU, exact (erf) or with the tanh approximation. */
  gelu(x: Float32Array, y: Float32Array, count: number, tanhApproximation: boolean): void;
  /** GELU gradient: `dx = dy * gelu'(x)`. */
  geluBackward(
    x: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    count: number,
    tanhApproximation: boolean,
  ): void;
  /** Per-row cross-entropy of `rows x vocab` logits fused with log-softmax; saves logsumexp. */
  crossEntropy(
    logits: Float32Array,
    targets: Int32Array,
    losses: Float32Array,
    logsumexp: Float32Array | null,
    rows: number,
    vocab: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): void;
  /** Cross-entropy gradient with per-row loss gradients `dlosses`; logsumexp may be null. */
  crossEntropyBackward(
    logits: Float32Array,
    targets: Int32Array,
    logsumexp: Float32Array | null,
    dlosses: Float32Array,
    dlogits: Float32Array,
    rows: number,
    vocab: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): void;
  /** `out[i] = weight[ids[i]]` for rows of `dim` in a `vocab x dim` table. */
  embedding(
    weight: Float32Array,
    ids: Int32Array,
    out: Float32Array,
    count: number,
    dim: number,
    vocab: number,
  ): void;
  /** Scatter-add: `dweight[ids[i]] += dout[i]`. */
  embeddingBackward(
    dout: Float32Array,
    ids: Int32Array,
    dweight: Float32Array,
    count: number,
    dim: number,
    vocab: number,
  ): void;
  /** One AdamW step in place on `param`, `m` and `v` (PyTorch's formula); `step` counts from 1. */
  adamw(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    count: number,
    lr: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    weightDecay: number,
    step: number,
  ): void;
  /**
   * Attention `softmax(scale * q k^T) v` per head without the full score matrix; q
   * `heads x queries x dim`, k `heads / group x keys x dim`, v `heads / group x keys x dimV`
   * (grouped-query attention: query head h reads key/value head floor(h / group)). Causal hides
   * key `j > i + keys - queries`. Saves per-row logsumexp when given. Key/value head g of k
   * starts at `g * keyHeadStride` (at least `keys * dim`: a KV cache's buffer may leave room
   * after each head's rows), of v at `g * valueHeadStride`.
   */
  attention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    logsumexp: Float32Array | null,
    heads: number,
    queries: number,
    keys: number,
    dim: number,
    dimV: number,
    scale: number,
    causal: boolean,
    keyHeadStride: number,
    valueHeadStride: number,
    group: number,
  ): void;
  /**
   * Attention gradient from the forward output and its logsumexp; writes dq, dk and dv (k, v,
   * dk and dv with heads / group heads, each summed over its group of query heads).
   */
  attentionBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    dout: Float32Array,
    logsumexp: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    heads: number,
    queries: number,
    keys: number,
    dim: number,
    dimV: number,
    scale: number,
    causal: boolean,
    group: number,
  ): void;
  /**
   * RMSNorm (src/kernels/layer-norm.cc): per row of `x [rows, cols]`, `rstd = 1 / sqrt(mean(x^2)
   * + epsilon)` (saved when `rstd` is given) and `y = x * rstd * weight` (no weight: null).
   * Absent from addons built before it existed.
   */
  rmsNorm?(
    x: Float32Array,
    weight: Float32Array | null,
    y: Float32Array,
    rstd: Float32Array | null,
    rows: number,
    cols: number,
    epsilon: number,
  ): void;
  /**
   * Rotary embeddings (src/kernels/rope.cc) of `x [batch, heads, positions, dim]` by `cos` and
   * `sin` (`tables` of `[positions, dim]`, 1 or batch), half-split pairs; `transpose` applies the
   * transposed rotation (the gradient). Absent from addons built before it existed.
   */
  rope?(
    x: Float32Array,
    cos: Float32Array,
    sin: Float32Array,
    out: Float32Array,
    batch: number,
    heads: number,
    positions: number,
    dim: number,
    tables: number,
    transpose: boolean,
  ): void;
  /**
   * Quantized matmul (src/kernels/quantized.cc): `out [m, n] = x [m, k] @ W^T`, or with
   * `transposed` `out [m, k] = x [m, n] @ W`, W `[n, k]` packed as format `code` (an index of
   * QUANTIZED_FORMATS) and given as its bytes; `scales` (int8, int4, nf4) and `minimums`
   * (asymmetric int4) are null otherwise. Absent from addons built before it existed.
   */
  quantizedMatmul?(
    code: number,
    m: number,
    n: number,
    k: number,
    groupSize: number,
    symmetric: boolean,
    transposed: boolean,
    x: Float32Array,
    weight: Uint8Array,
    scales: Float32Array | null,
    minimums: Float32Array | null,
    out: Float32Array,
    int8Activations: boolean,
  ): void;
  /** Strided unary op (code from {@link UNARY_OPS}); layout as built by the backend. */
  unary(op: number, x: Float32Array, out: Float32Array, layout: Float64Array): void;
  /** Strided binary op (code from {@link BINARY_OPS}) with stride-0 broadcasting. */
  binary(
    op: number,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    layout: Float64Array,
  ): void;
  /** Strided reduction (code from {@link REDUCE_OPS}) into a contiguous keep-dim output. */
  reduce(
    op: number,
    x: Float32Array,
    out: Float32Array,
    outSize: number,
    layout: Float64Array,
  ): void;
  /** `out = condition ? a : b` over strided views (operands condition, a, b, out). */
  where(
    condition: Uint8Array,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    layout: Float64Array,
  ): void;
  /**
   * torch.gather along one axis: layout operands (index, out, x with stride 0 on the axis);
   * `axisStride` is x's stride along it and every index must lie in `[0, axisSize)`.
   */
  gather(
    x: Float32Array,
    index: Int32Array,
    out: Float32Array,
    axisSize: number,
    axisStride: number,
    layout: Float64Array,
  ): void;
  /** The instruction set in use (`avx2-fma` or `portable`) and the thread count. */
  info(): { isa: string; threads: number };
  /** Sets the number of threads (the calling thread included); returns the count in use. */
  setThreads(count: number): number;
  /** Switches to the portable kernels (true) or back to the best for this CPU; returns the ISA. */
  forcePortable(portable: boolean): string;
}

/** Unary op codes of {@link NativeKernels.unary}, in the order of the C++ enum. */
export const UNARY_OPS = [
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
  'identity',
] as const;

/** Binary op codes of {@link NativeKernels.binary}, in the order of the C++ enum. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;

/** Reduction codes of {@link NativeKernels.reduce}, in the order of the C++ enum. */
export const REDUCE_OPS = ['sum', 'max', 'min'] as const;

let loaded: NativeKernels | undefined;
let failure: string | undefined;

/**
 * Loads the addon once. Returns the kernels, or undefined with the reason in
 * {@link nativeLoadFailure}. `LLMKIT_CPU_DISABLE=1` pretends the addon is missing (for testing the
 * fallback path).
 */
export function tryLoadNative(): NativeKernels | undefined {
  if (loaded || failure) return loaded;
  if (process.env.LLMKIT_CPU_DISABLE === '1') {
    failure = 'disabled by LLMKIT_CPU_DISABLE=1';
    return undefined;
  }
  const require = createRequire(import.meta.url);
  const packageRoot = fileURLToPath(new URL('..', import.meta.url));
  // Which file: LLMKIT_CPU_ADDON (another build, e.g. the sanitizer build of
  // scripts/leak-check.sh); else the one compiled from source into build/Release (the install
  // script compiles only when no prebuild fits or loads, and a workspace checkout always has it);
  // else the prebuild for this platform, arch, libc and Node-API version.
  const candidates: string[] = [];
  const reasons: string[] = [];
  if (process.env.LLMKIT_CPU_ADDON) {
    candidates.push(process.env.LLMKIT_CPU_ADDON);
  } else {
    const compiled = join(packageRoot, 'build', 'Release', 'llmkit_cpu.node');
    if (existsSync(compiled)) candidates.push(compiled);
    const prebuild = findPrebuild(packageRoot, 'llmkit_cpu');
    if (prebuild.path === undefined) reasons.push(prebuild.reason);
    else candidates.push(prebuild.path);
    if (!existsSync(compiled)) {
      const log = join(packageRoot, 'build', 'install.log');
      reasons.push(
        existsSync(log)
          ? `compiling it from source failed (see ${log})`
          : 'none compiled from source (that needs a C++ compiler and python3)',
      );
    }
  }
  for (const path of candidates) {
    try {
      loaded = require(path) as NativeKernels;
      return loaded;
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      reasons.push(`${relative(packageRoot, path)} failed to load: ${message}`);
    }
  }
  failure = reasons.join('; ');
  return loaded;
}

/** Why the addon could not load, or undefined when it loaded (or was not tried yet). */
export function nativeLoadFailure(): string | undefined {
  return failure;
}

/**
 * The native kernels; throws a {@link CpuBackendError} (`addon_unavailable`) saying why when the
 * addon cannot load.
 *
 * @example
 * ```ts
 * const kernels = nativeKernels();
 * const x = new Float32Array([1, 2, 3]);
 * kernels.softmax(x, x, 1, 3, false);
 * console.log(x); // Float32Array [0.0900, 0.2447, 0.6652]
 * ```
 */
export function nativeKernels(): NativeKernels {
  const kernels = tryLoadNative();
  if (!kernels) throw new CpuBackendError('addon_unavailable', `backend-cpu: ${failure}`);
  return kernels;
}
