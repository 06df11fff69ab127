// The `quantizedMatmul` kernel: out = x @ W^T (or the input gradient x @ W with `transposed`)
// for a weight W [N, K] kept in a packed format, each weight element decoded where it is loaded
// (quantized-wgsl.ts), never into a float copy of W. Two shaders:
// - matrix-vector (forward with M <= 4, decoding): one workgroup of 64 per output element, the
//   64 invocations walk K with coalesced reads of x and of W's row, then a workgroup sum;
// - tiled (every other call): the 64x64-tile GEMM of matmul.ts's small tiling with W's tile
//   decoded as it is staged, so each weight is decoded once per 64 rows of x.
// Part offsets are honoured; x and the output are contiguous (the op makes them so).
// `activations: 'int8'` (forward): the backend first runs roundActivations into a temporary x'
// (each block of 32 of x quantized as llama.cpp's Q8_0 and decoded, q d), then the product on x'
// with float arithmetic, which gives the integer sums' result up to float rounding.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import { formatShape } from '@llmkit/utils';
import type { GpuBuffer } from '../buffers.js';
import { WebGpuError } from '../errors.js';
import { grid, type Runtime } from '../runtime.js';
import { MATH_WGSL, PARAMS_WGSL, isContiguous, sizeOf } from '../wgsl.js';
import { fill } from './elementwise.js';
import { BLOCK_BYTES, partDTypes, type QuantizedFormat, weightWgsl } from './quantized-wgsl.js';
import { scratchWgsl, workgroupReduce } from './rows-wgsl.js';

const FORMATS: readonly QuantizedFormat[] = ['fp16', 'bf16', 'int8', 'int4', 'nf4', 'q8_0', 'q4_0'];

/** Largest M the matrix-vector shader takes (it reads W once per row of x). */
const MATRIX_VECTOR_ROWS = 4;

const gpuOf = (t: KernelTensor) => (t.buffer as GpuBuffer).gpu;

// Params: [M, N, K, groupSize, xOffset, outOffset, partOffset x3 @6].
function header(format: QuantizedFormat, symmetric: boolean): string {
  const outBinding = partDTypes(format, symmetric).length + 2;
  return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;
${weightWgsl(format, symmetric)}
@group(0) @binding(${outBinding}) var<storage, read_write> O: array<f32>;`;
}

function matrixVectorShader(format: QuantizedFormat, symmetric: boolean): string {
  return `${header(format, symmetric)}
${MATH_WGSL}
${scratchWgsl(1, 64)}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let N = p(1u); let K = p(2u);
  let n = wid.y * nwg.x + wid.x;
  let m = wid.z;
  if (n >= N) { return; }
  let row = p(4u) + m * K;
  var acc = 0.0;
  for (var k = lid; k < K; k += 64u) { acc = fma(X[row + k], weight(n, k), acc); }
  ${workgroupReduce('sum', 'acc', 'total', 0, 64)}
  if (lid == 0u) { O[p(5u) + m * N + n] = total; }
}`;
}

// The 4x4 register tile of the tiled shader as scalars (acc_i_j: row ty + 16i, column tx + 16j).
const TILE = [0, 1, 2, 3];
const ACCUMULATORS = TILE.flatMap((i) => TILE.map((j) => `var acc_${i}_${j} = 0.0;`)).join(' ');
const INNER = [
  ...TILE.map((i) => `let a${i} = tileA[d * 64u + lid.y + ${16 * i}u];`),
  ...TILE.map((j) => `let b${j} = tileB[d * 64u + lid.x + ${16 * j}u];`),
  ...TILE.flatMap((i) => TILE.map((j) => `acc_${i}_${j} = fma(a${i}, b${j}, acc_${i}_${j});`)),
].join('\n      ');
const STORE = TILE.flatMap((i) =>
  TILE.map(
    (j) => `if (row0 + lid.y + ${16 * i}u < M && col0 + lid.x + ${16 * j}u < C) {
    O[p(5u) + (row0 + lid.y + ${16 * i}u) * C + col0 + lid.x + ${16 * j}u] = acc_${i}_${j};
  }`,
  ),
).join('\n  ');

/**
 * out [M, C] = x [M, D] @ B [D, C] with B[d, c] = W[c, d] (forward: D = K, C = N) or W[d, c]
 * (transposed: D = N, C = K). B's tile loads walk W's rows (k) fastest either way.
 */
function tiledShader(format: QuantizedFormat, symmetric: boolean, transposed: boolean): string {
  const loadB = transposed
    ? 'let c = e % 64u; let d = e / 64u;'
    : 'let d = e % 16u; let c = e / 16u;';
  return `${header(format, symmetric)}
var<workgroup> tileA: array<f32, 1024>; // [d][m], 16 x 64
var<workgroup> tileB: array<f32, 1024>; // [d][c], 16 x 64

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let M = p(0u);
  let D = ${transposed ? 'p(1u)' : 'p(2u)'};
  let C = ${transposed ? 'p(2u)' : 'p(1u)'};
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  ${ACCUMULATORS}
  for (var d0 = 0u; d0 < D; d0 += 16u) {
    for (var s = 0u; s < 4u; s++) {
      let e = li + s * 256u;
      let d = e % 16u; let m = e / 16u;
      var v = 0.0;
      if (row0 + m < M && d0 + d < D) { v = X[p(4u) + (row0 + m) * D + d0 + d]; }
      tileA[d * 64u + m] = v;
    }
    for (var s = 0u; s < 4u; s++) {
      let e = li + s * 256u;
      ${loadB}
      var v = 0.0;
      if (d0 + d < D && col0 + c < C) { v = ${transposed ? 'weight(d0 + d, col0 + c)' : 'weight(col0 + c, d0 + d)'}; }
      tileB[d * 64u + c] = v;
    }
    workgroupBarrier();
    for (var d = 0u; d < 16u; d++) {
      ${INNER}
    }
    workgroupBarrier();
  }
  ${STORE}
}`;
}

// One invocation a block of 32: amax, d = fp16(amax / 127) (nearest even, from the bits),
// q = clamp(round-half-even(x * (127 / amax)), -127, 127), out = q d.
function roundActivationsShader(): string {
  return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
fn toHalf(f: f32) -> f32 {
  let bits = bitcast<u32>(f); // f >= 0
  if (bits >= 0x477ff000u) { return bitcast<f32>(INF_BITS); }
  if (bits < 0x38800000u) { return round(f * 16777216.0) * 5.9604644775390625e-8; }
  return bitcast<f32>((bits + 0xfffu + ((bits >> 13u) & 1u)) & 0xffffe000u);
}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let b = gid.y * nwg.x * 256u + gid.x;
  if (b >= p(0u)) { return; }
  let start = p(1u) + b * 32u;
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) { amax = max(amax, abs(X[start + j])); }
  // WGSL's division may be off by an ulp or two: one correction step (residual by fma) makes it
  // the correctly rounded quotient the cpu and js backends use, so codes round the same way
  var scale = 0.0;
  if (amax > 0.0) {
    scale = 127.0 / amax;
    scale = fma(fma(-scale, amax, 127.0), 1.0 / amax, scale);
  }
  var quotient = amax / 127.0;
  quotient = fma(fma(-quotient, 127.0, amax), 1.0 / 127.0, quotient);
  let d = toHalf(quotient);
  for (var j = 0u; j < 32u; j++) {
    O[b * 32u + j] = clamp(round(X[start + j] * scale), -127.0, 127.0) * d;
  }
}`;
}

/**
 * x [M, K] (contiguous, K a multiple of 32) rounded as 8-bit activations into `out` [M, K]
 * (offset 0): the first pass of `quantizedMatmul` with `activations: 'int8'`.
 */
export function roundActivations(rt: Runtime, x: KernelTensor, out: GpuBuffer): void {
  const K = x.shape[1];
  if (K % 32 !== 0) fail(`activations 'int8' need K a multiple of 32, got ${K}`);
  const blocks = (x.shape[0] * K) / 32;
  if (blocks === 0) return;
  rt.run({
    kernel: 'quantizedMatmul',
    key: 'quantizedMatmul:roundActivations',
    shader: roundActivationsShader,
    buffers: [gpuOf(x), out.gpu],
    params: [blocks, x.offset],
    workgroups: grid(blocks),
  });
}

/** Whether a call takes 8-bit activations (and which formats may). */
export function takesInt8Activations(attrs: KernelAttributes): boolean {
  if (attrs.activations !== 'int8' || attrs.transposed) return false;
  const format = String(attrs.format);
  const symmetric = attrs.symmetric !== false;
  const group = Number(attrs.groupSize ?? 0);
  if (
    !(
      format === 'int8' ||
      format === 'q8_0' ||
      format === 'q4_0' ||
      (format === 'int4' && symmetric && group % 32 === 0)
    )
  )
    fail(
      `activations 'int8' take int8, q8_0, q4_0 or symmetric int4 with a group a multiple of 32, got ${format}${format === 'int4' ? ` (symmetric ${symmetric}, group ${group})` : ''}`,
    );
  return true;
}

/** Elements each part of a W [N, K] in `format` must hold, in kernel order. */
function partSizes(format: QuantizedFormat, symmetric: boolean, N: number, K: number, G: number) {
  switch (format) {
    case 'fp16':
    case 'bf16':
      return [N * K];
    case 'int8':
      return [N * K, N];
    case 'int4':
    case 'nf4':
      return [(N * K) / 2, (N * K) / G, ...(symmetric ? [] : [(N * K) / G])];
    case 'q8_0':
    case 'q4_0':
      return [(N * K * BLOCK_BYTES[format]) / 32];
  }
}

function fail(message: string): never {
  throw new WebGpuError('invalid_argument', `webgpu: quantizedMatmul: ${message}`);
}

/** Checks the call against the format's layout and returns its sizes. */
function check(
  x: KernelTensor,
  parts: readonly KernelTensor[],
  out: KernelTensor,
  attrs: KernelAttributes,
) {
  const format = String(attrs.format) as QuantizedFormat;
  if (!FORMATS.includes(format))
    fail(`unknown format '${String(attrs.format)}', expected one of ${FORMATS.join(', ')}`);
  const transposed = Boolean(attrs.transposed);
  const symmetric = attrs.symmetric !== false;
  const groupSize = Number(attrs.groupSize ?? 0);
  if (x.dtype !== 'float32' || out.dtype !== 'float32')
    throw new WebGpuError(
      'unsupported',
      `webgpu: quantizedMatmul computes in float32, got x ${x.dtype} and out ${out.dtype}`,
    );
  if (x.shape.length !== 2 || out.shape.length !== 2 || out.shape[0] !== x.shape[0])
    fail(`x ${formatShape(x.shape)} and out ${formatShape(out.shape)} must be [M, *] matrices`);
  if (!isContiguous(x) || !isContiguous(out)) fail('x and out must be contiguous');
  const M = x.shape[0];
  const N = transposed ? x.shape[1] : out.shape[1];
  const K = transposed ? out.shape[1] : x.shape[1];
  const what = `${format} W [${N},${K}]`;
  if ((format === 'int4' || format === 'nf4') && !(groupSize > 0 && K % groupSize === 0))
    fail(`${what}: groupSize ${groupSize} must be positive and divide K ${K}`);
  if ((format === 'q8_0' || format === 'q4_0') && K % 32 !== 0)
    fail(`${what}: K ${K} must be a multiple of the block size 32`);
  const dtypes = partDTypes(format, symmetric);
  const sizes = partSizes(format, symmetric, N, K, groupSize);
  if (parts.length !== dtypes.length)
    fail(`${what} takes ${dtypes.length} packed parts (${dtypes.join(', ')}), got ${parts.length}`);
  parts.forEach((part, i) => {
    if (part.dtype !== dtypes[i] || sizeOf(part.shape) !== sizes[i])
      fail(
        `${what}: part ${i} is ${part.dtype} ${formatShape(part.shape)}, expected ${dtypes[i]} of ${sizes[i]} elements`,
      );
  });
  return { format, transposed, symmetric, groupSize, M, N, K };
}

/** Launches `quantizedMatmul` (see core-tensor's backend/types.ts for its contract). */
export function quantizedMatmul(
  rt: Runtime,
  [x, ...parts]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const { format, transposed, symmetric, groupSize, M, N, K } = check(x, parts, out, attrs);
  const [D, C] = transposed ? [N, K] : [K, N];
  if (M * C === 0) return;
  if (D === 0) {
    fill(rt, out, 0);
    return;
  }
  const params = [M, N, K, groupSize, x.offset, out.offset, 0, 0, 0];
  parts.forEach((part, i) => {
    params[6 + i] = part.offset;
  });
  const buffers = [gpuOf(x), ...parts.map(gpuOf), gpuOf(out)];
  const variant = `${format}:${symmetric ? 's' : 'a'}`;
  if (!transposed && M <= MATRIX_VECTOR_ROWS) {
    rt.run({
      kernel: 'quantizedMatmul',
      key: `quantizedMatmul:vector:${variant}`,
      shader: () => matrixVectorShader(format, symmetric),
      buffers,
      params,
      workgroups: [Math.min(N, 65535), Math.ceil(N / 65535), M],
    });
    return;
  }
  if (Math.ceil(M / 64) > 65535)
    throw new WebGpuError(
      'unsupported',
      `webgpu: quantizedMatmul with ${M} rows of x needs more than 65535 workgroups`,
    );
  rt.run({
    kernel: 'quantizedMatmul',
    key: `quantizedMatmul:tiled:${transposed ? 'T' : 'N'}:${variant}`,
    shader: () => tiledShader(format, symmetric, transposed),
    buffers,
    params,
    workgroups: [Math.ceil(C / 64), Math.ceil(M / 64), 1],
  });
}
