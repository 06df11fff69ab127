// The `matmul` kernel: batched C = A @ B over strided views, a tiled GEMM.
// Each workgroup of 16x16 invocations computes a 64x64 tile of C; each invocation a 4x4 register
// tile (rows ty + 16i, columns tx + 16j). K advances in steps of 16: the A and B tiles are staged
// in workgroup memory (8 KiB), loaded so that neighbouring invocations read neighbouring
// addresses for either layout (row- or column-major, chosen by the transpose flags).
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor';
import type { GpuBuffer } from '../buffers.js';
import { WebGpuError, shapeText } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { PARAMS_WGSL, mergeDimensions } from '../wgsl.js';

const TILE = 64;
const MAX_BATCH_RANK = 4;

// The 4x4 register tile is written out as 16 scalars (acc_i_j) rather than an array: shader
// compilers (llvmpipe's especially) keep scalars in registers but may spill indexed arrays.
const TILE_INDICES = [0, 1, 2, 3];

function declareAccumulators(): string {
  return TILE_INDICES.flatMap((i) => TILE_INDICES.map((j) => `var acc_${i}_${j} = 0.0;`)).join(' ');
}

function innerProduct(): string {
  const loads = [
    ...TILE_INDICES.map((i) => `let a${i} = tileA[k * 64u + lid.y + ${16 * i}u];`),
    ...TILE_INDICES.map((j) => `let b${j} = tileB[k * 64u + lid.x + ${16 * j}u];`),
  ];
  const fmas = TILE_INDICES.flatMap((i) =>
    TILE_INDICES.map((j) => `acc_${i}_${j} = fma(a${i}, b${j}, acc_${i}_${j});`),
  );
  return [...loads, ...fmas].join('\n      ');
}

function storeAccumulators(): string {
  return TILE_INDICES.map(
    (i) => `{
    let r = row0 + lid.y + ${16 * i}u;
    if (r < M) {
${TILE_INDICES.map((j) => `      if (col0 + lid.x + ${16 * j}u < N) { C[outBase + r * N + col0 + lid.x + ${16 * j}u] = acc_${i}_${j}; }`).join('\n')}
    }
  }`,
  ).join('\n  ');
}

// Params: [M, N, K, rowStrideA, colStrideA, rowStrideB, colStrideB, offsetA, offsetB,
//          batchRank, batchShape x4 @10, batchStridesA x4 @14, batchStridesB x4 @18]
function shader(columnMajorA: boolean, columnMajorB: boolean): string {
  // Tile loads: 1024 elements per operand per step, 4 per invocation. For a row-major A the
  // fastest-varying load index walks k (contiguous); for a column-major A it walks m.
  const loadA = columnMajorA
    ? 'let m = e % 64u; let k = e / 64u;'
    : 'let k = e % 16u; let m = e / 16u;';
  const loadB = columnMajorB
    ? 'let k = e % 16u; let n = e / 16u;'
    : 'let n = e % 64u; let k = e / 64u;';
  return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
var<workgroup> tileA: array<f32, 1024>; // [k][m], 16 x 64
var<workgroup> tileB: array<f32, 1024>; // [k][n], 16 x 64

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let M = p(0u); let N = p(1u); let K = p(2u);
  // Batch offsets from the batch index (wid.z).
  var rest = wid.z;
  var offsetA = p(7u);
  var offsetB = p(8u);
  for (var d = i32(p(9u)) - 1; d >= 0; d--) {
    let size = p(10u + u32(d));
    let c = rest % size;
    rest = rest / size;
    offsetA += c * p(14u + u32(d));
    offsetB += c * p(18u + u32(d));
  }
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  ${declareAccumulators()}
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var t = 0u; t < 4u; t++) {
      let e = li + t * 256u;
      {
        ${loadA}
        let gm = row0 + m; let gk = k0 + k;
        var v = 0.0;
        if (gm < M && gk < K) { v = A[offsetA + gm * p(3u) + gk * p(4u)]; }
        tileA[k * 64u + m] = v;
      }
      {
        ${loadB}
        let gk = k0 + k; let gn = col0 + n;
        var v = 0.0;
        if (gk < K && gn < N) { v = B[offsetB + gk * p(5u) + gn * p(6u)]; }
        tileB[k * 64u + n] = v;
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      ${innerProduct()}
    }
    workgroupBarrier();
  }
  let outBase = wid.z * M * N;
  ${storeAccumulators()}
}`;
}

/** Launches the tiled GEMM for every batch matrix. */
export function matmul(
  rt: Runtime,
  a: KernelTensor,
  b: KernelTensor,
  out: KernelTensor,
  attrs: KernelAttributes,
): void {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new WebGpuError(
      'unsupported',
      `webgpu: matmul computes in float32, got ${a.dtype} @ ${b.dtype}`,
    );
  }
  const rank = out.shape.length;
  const M = out.shape[rank - 2];
  const N = out.shape[rank - 1];
  const K = a.shape[rank - 1];
  const batchShape = out.shape.slice(0, rank - 2);
  const batches = batchShape.reduce((n, d) => n * d, 1);
  if (M * N * batches === 0) return;
  const merged = mergeDimensions('matmul', batchShape, [
    a.strides.slice(0, rank - 2),
    b.strides.slice(0, rank - 2),
  ]);
  if (merged.shape.length > MAX_BATCH_RANK || batches > 65535) {
    throw new WebGpuError(
      'unsupported',
      `webgpu: matmul batch ${shapeText(batchShape)} is too large (at most 65535 matrices, batch rank ${MAX_BATCH_RANK})`,
    );
  }
  const columnMajorA = Boolean(attrs.transposeA);
  const columnMajorB = Boolean(attrs.transposeB);
  const params = new Array<number>(22).fill(0);
  params.splice(
    0,
    10,
    M,
    N,
    K,
    a.strides[rank - 2],
    a.strides[rank - 1],
    b.strides[rank - 2],
    b.strides[rank - 1],
    a.offset,
    b.offset,
    merged.shape.length,
  );
  merged.shape.forEach((s, d) => {
    params[10 + d] = s;
    params[14 + d] = merged.strides[0][d];
    params[18 + d] = merged.strides[1][d];
  });
  if (K === 0) {
    // No products: C is zero.
    rt.run({
      kernel: 'matmul',
      key: 'matmul:zero',
      shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> C: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) { if (gid.x < p(0u)) { C[gid.x] = 0u; } }`,
      buffers: [(out.buffer as GpuBuffer).gpu],
      params: [M * N * batches],
      workgroups: [Math.ceil((M * N * batches) / 256), 1, 1],
    });
    return;
  }
  rt.run({
    kernel: 'matmul',
    key: `matmul:${columnMajorA ? 'T' : 'N'}${columnMajorB ? 'T' : 'N'}`,
    shader: () => shader(columnMajorA, columnMajorB),
    buffers: [
      (a.buffer as GpuBuffer).gpu,
      (b.buffer as GpuBuffer).gpu,
      (out.buffer as GpuBuffer).gpu,
    ],
    params,
    workgroups: [Math.ceil(N / TILE), Math.ceil(M / TILE), batches],
    describe: undefined,
  });
}
