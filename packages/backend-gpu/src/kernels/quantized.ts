// The `quantizedMatmul` kernel: out = x @ W^T (or the input gradient x @ W with `transposed`)
// for a weight W [N, K] kept in a packed format, each weight element decoded where it is loaded
// (quantized-wgsl.ts), never into a float copy of W. Two shaders:
// - matrix-vector (forward with M <= 4, decoding): one workgroup of 64 per output element, the
//   64 invocations walk K with coalesced reads of x and of W's row, then a workgroup sum;
// - tiled (every other call): the 64x64-tile GEMM of matmul.ts's small tiling with W's tile
//   decoded as it is staged, so each weight is decoded once per 64 rows of x.
// Part offsets are honoured; x and the output are contiguous (the op makes them so).
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import { formatShape } from '@llmkit/utils';
import type { GpuBuffer } from '../buffers.js';
import { WebGpuError } from '../errors.js';
import type { Runtime } from '../runtime.js';
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
