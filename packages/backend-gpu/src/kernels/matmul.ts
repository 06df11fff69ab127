// The `matmul` kernel: batched C = A @ B over strided views, a tiled GEMM (see Tiling): A and B
// tiles are staged in workgroup memory, loaded so that neighbouring invocations read
// neighbouring addresses for either layout (row- or column-major, chosen by the transpose
// flags), and each invocation accumulates a register tile of C.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import { formatShape } from '@llmkit/utils';
import type { GpuBuffer } from '../buffers.js';
import { WebGpuError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { PARAMS_WGSL, mergeDimensions } from '../wgsl.js';

const MAX_BATCH_RANK = 4;

/**
 * A GEMM tiling: each workgroup of 16x16 invocations computes a `tile` x `tile` block of C, each
 * invocation a `perThread` x `perThread` register tile (rows ty + 16i, columns tx + 16j), with K
 * staged `depth` at a time. Both use 1024-element operand tiles (8 KiB of workgroup memory), so
 * every invocation loads 4 elements of A and 4 of B per step.
 */
interface Tiling {
  tile: number;
  perThread: number;
  depth: number;
}
const SMALL: Tiling = { tile: 64, perThread: 4, depth: 16 };
const LARGE: Tiling = { tile: 128, perThread: 8, depth: 8 };

// The register tile is written out as scalars (acc_i_j) rather than an array: shader compilers
// (llvmpipe's especially) keep scalars in registers but may spill indexed arrays.
function indices(t: Tiling): number[] {
  return Array.from({ length: t.perThread }, (_, i) => i);
}

function declareAccumulators(t: Tiling): string {
  return indices(t)
    .flatMap((i) => indices(t).map((j) => `var acc_${i}_${j} = 0.0;`))
    .join(' ');
}

function innerProduct(t: Tiling): string {
  const loads = [
    ...indices(t).map((i) => `let a${i} = tileA[k * ${t.tile}u + lid.y + ${16 * i}u];`),
    ...indices(t).map((j) => `let b${j} = tileB[k * ${t.tile}u + lid.x + ${16 * j}u];`),
  ];
  const fmas = indices(t).flatMap((i) =>
    indices(t).map((j) => `acc_${i}_${j} = fma(a${i}, b${j}, acc_${i}_${j});`),
  );
  return [...loads, ...fmas].join('\n      ');
}

function storeAccumulators(t: Tiling): string {
  return indices(t)
    .map(
      (i) => `{
    let r = row0 + lid.y + ${16 * i}u;
    if (r < M) {
${indices(t)
  .map(
    (j) =>
      `      if (col0 + lid.x + ${16 * j}u < N) { C[outBase + r * N + col0 + lid.x + ${16 * j}u] = acc_${i}_${j}; }`,
  )
  .join('\n')}
    }
  }`,
    )
    .join('\n  ');
}

/** Loads of one operand tile, 4 scalars per invocation (any layout, any alignment). */
function scalarLoad(
  name: string,
  mapping: string,
  inside: string,
  address: string,
  slot: string,
  coordinates: string,
): string {
  return `for (var s = 0u; s < 4u; s++) {
      let e = li + s * 256u;
      ${mapping}
      ${coordinates}
      var v = 0.0;
      if (${inside}) { v = ${name}[${address}]; }
      ${slot} = v;
    }`;
}

// Vectorised loads of the 128-wide tiling (one vec4 per invocation per operand) for row-major
// operands whose rows start on 16-byte boundaries (launcher checks the strides, offsets, K and N
// are multiples of 4, so a vec4 never straddles the matrix edge). A: 4 consecutive k of row m;
// B: 4 consecutive n of row k.
const VECTOR_LOAD_A = `{
      let m = li / 2u; let kq = (li % 2u) * 4u;
      let gm = row0 + m; let gk = k0 + kq;
      var v = vec4<f32>(0.0);
      if (gm < M && gk < K) { v = A[(offsetA + gm * p(3u) + gk) / 4u]; }
      tileA[kq * 128u + m] = v.x; tileA[(kq + 1u) * 128u + m] = v.y;
      tileA[(kq + 2u) * 128u + m] = v.z; tileA[(kq + 3u) * 128u + m] = v.w;
    }`;
const VECTOR_LOAD_B = `{
      let k = li / 32u; let nq = (li % 32u) * 4u;
      let gk = k0 + k; let gn = col0 + nq;
      var v = vec4<f32>(0.0);
      if (gk < K && gn < N) { v = B[(offsetB + gk * p(5u) + gn) / 4u]; }
      let base = k * 128u + nq;
      tileB[base] = v.x; tileB[base + 1u] = v.y; tileB[base + 2u] = v.z; tileB[base + 3u] = v.w;
    }`;

// Params: [M, N, K, rowStrideA, colStrideA, rowStrideB, colStrideB, offsetA, offsetB,
//          batchRank, batchShape x4 @10, batchStridesA x4 @14, batchStridesB x4 @18]
function shader(
  t: Tiling,
  columnMajorA: boolean,
  columnMajorB: boolean,
  vectorA: boolean,
  vectorB: boolean,
): string {
  // Tile loads: for a row-major A the fastest-varying load index walks k (contiguous in memory);
  // for a column-major A it walks m. Likewise for B.
  const { tile, depth } = t;
  const loadA = columnMajorA
    ? `let m = e % ${tile}u; let k = e / ${tile}u;`
    : `let k = e % ${depth}u; let m = e / ${depth}u;`;
  const loadB = columnMajorB
    ? `let k = e % ${depth}u; let n = e / ${depth}u;`
    : `let n = e % ${tile}u; let k = e / ${tile}u;`;
  return `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> A: array<${vectorA ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read> B: array<${vectorB ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
var<workgroup> tileA: array<f32, 1024>; // [k][m], ${depth} x ${tile}
var<workgroup> tileB: array<f32, 1024>; // [k][n], ${depth} x ${tile}

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
  let row0 = wid.y * ${tile}u;
  let col0 = wid.x * ${tile}u;
  ${declareAccumulators(t)}
  for (var k0 = 0u; k0 < K; k0 += ${depth}u) {
    ${vectorA ? VECTOR_LOAD_A : scalarLoad('A', loadA, 'gm < M && gk < K', 'offsetA + gm * p(3u) + gk * p(4u)', `tileA[k * ${tile}u + m]`, 'let gm = row0 + m; let gk = k0 + k;')}
    ${vectorB ? VECTOR_LOAD_B : scalarLoad('B', loadB, 'gk < K && gn < N', 'offsetB + gk * p(5u) + gn * p(6u)', `tileB[k * ${tile}u + n]`, 'let gk = k0 + k; let gn = col0 + n;')}
    workgroupBarrier();
    for (var k = 0u; k < ${depth}u; k++) {
      ${innerProduct(t)}
    }
    workgroupBarrier();
  }
  let outBase = wid.z * M * N;
  ${storeAccumulators(t)}
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
      `webgpu: matmul batch ${formatShape(batchShape)} is too large (at most 65535 matrices, batch rank ${MAX_BATCH_RANK})`,
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
  // The 128-wide tiling does twice the work per loaded element, worth it once the matrix fills it.
  const tiling = M >= 128 && N >= 128 ? LARGE : SMALL;
  const aligned = (...values: number[]) => values.every((v) => v % 4 === 0);
  const vectorA =
    tiling === LARGE &&
    !columnMajorA &&
    aligned(K, a.strides[rank - 2], a.offset, ...merged.strides[0]);
  const vectorB =
    tiling === LARGE &&
    !columnMajorB &&
    aligned(N, b.strides[rank - 2], b.offset, ...merged.strides[1]);
  rt.run({
    kernel: 'matmul',
    key: `matmul:${tiling.tile}:${columnMajorA ? 'T' : 'N'}${columnMajorB ? 'T' : 'N'}:${vectorA ? 4 : 1}${vectorB ? 4 : 1}`,
    shader: () => shader(tiling, columnMajorA, columnMajorB, vectorA, vectorB),
    buffers: [
      (a.buffer as GpuBuffer).gpu,
      (b.buffer as GpuBuffer).gpu,
      (out.buffer as GpuBuffer).gpu,
    ],
    params,
    workgroups: [Math.ceil(N / tiling.tile), Math.ceil(M / tiling.tile), batches],
    describe: undefined,
  });
}
