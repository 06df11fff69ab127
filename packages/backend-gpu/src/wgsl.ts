// WGSL shared by the kernels: the parameter block, the flat invocation index, strided offsets,
// and the math functions WGSL lacks or leaves loosely specified (NaN tests, erf, tanh, pow).
import type { KernelTensor } from '@llmkit/core-tensor/backend';
import { formatShape } from '@llmkit/utils';
import { WebGpuError } from './errors.js';

/** Highest rank the strided kernels handle after merging dimensions. */
export const MAX_RANK = 6;

/** The parameter block at binding 0: 64 u32 words, `p(i)` reads word i, `pf(i)` as f32. */
export const PARAMS_WGSL = /* wgsl */ `
@group(0) @binding(0) var<uniform> P: array<vec4<u32>, 16>;
fn p(i: u32) -> u32 { return P[i / 4u][i % 4u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(p(i)); }
fn pi32(i: u32) -> i32 { return bitcast<i32>(p(i)); }
// Runtime values: WGSL rejects NaN and infinity in constant expressions.
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nanValue() -> f32 { return bitcast<f32>(NAN_BITS); }
fn infinity() -> f32 { return bitcast<f32>(INF_BITS); }
`;

/** The entry point header of a 1-D kernel of 256 invocations per workgroup; `id` is flat. */
export const ENTRY_256 = /* wgsl */ `
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = (wid.y * nwg.x + wid.x) * 256u + lid;
`;

/**
 * `stridedOffset(i, base)`: the element offset of logical element i of a tensor whose strides
 * are at params [base, base + 6) and offset at base + 6, for the shape at params [2, 8) with
 * rank p(1).
 */
export const STRIDED_WGSL = /* wgsl */ `
fn stridedOffset(flat: u32, base: u32) -> u32 {
  var rest = flat;
  var offset = p(base + 6u);
  let rank = p(1u);
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let size = p(2u + u32(d));
    let coordinate = rest % size;
    rest = rest / size;
    offset += coordinate * p(base + u32(d));
  }
  return offset;
}
`;

/** Exact-enough float helpers (the GPU's own tanh and pow differ at the edges). */
export const MATH_WGSL = /* wgsl */ `
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn stableTanh(x: f32) -> f32 {
  if (abs(x) > 15.0) { return sign(x); }
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
fn erfApprox(x: f32) -> f32 {
  let z = abs(x);
  if (z < 0.5) {
    // Maclaurin series; the next term is below 3e-8 relative.
    let z2 = z * z;
    let s = z * (1.0 - z2 * (1.0 / 3.0 - z2 * (0.1 - z2 * (1.0 / 42.0 - z2 * (1.0 / 216.0 - z2 / 1320.0)))));
    return sign(x) * 1.1283791670955126 * s;
  }
  // Numerical Recipes' erfc (Chebyshev fit), fractional error below 1.2e-7.
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return sign(x) * (1.0 - r);
}
fn powJs(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isNan(a) || isNan(b)) { return nanValue(); }
  let isInteger = floor(b) == b;
  if (a < 0.0) {
    if (!isInteger) { return nanValue(); }
    let magnitude = exp2(b * log2(-a));
    let odd = abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
    return select(magnitude, -magnitude, odd);
  }
  if (a == 0.0) { return select(0.0, infinity(), b < 0.0); }
  if (isInteger && abs(b) <= 4.0) {
    // Small integer powers exactly, as repeated products (x**2 is common).
    var r = 1.0;
    for (var k = 0; k < i32(abs(b)); k++) { r *= a; }
    return select(r, 1.0 / r, b < 0.0);
  }
  return exp2(b * log2(a));
}
`;

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when a view is row-major contiguous. */
export function isContiguous(t: { shape: readonly number[]; strides: readonly number[] }): boolean {
  let expected = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.strides[d] !== expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

/**
 * Merges dimensions that every view walks contiguously and drops size-1 dimensions, so most
 * element-wise launches see rank 0 or 1: shape [2,3,4] with strides [12,4,1] and [0,0,1] stays
 * rank 2 ([6,4]; strides [4,1] and [0,1]).
 */
export function mergeDimensions(
  kernel: string,
  shape: readonly number[],
  stridesList: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && stridesList.every((s, t) => outStrides[t][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      stridesList.forEach((s, t) => {
        outStrides[t][last] = s[d];
      });
      continue;
    }
    outShape.push(shape[d]);
    stridesList.forEach((s, t) => {
      outStrides[t].push(s[d]);
    });
  }
  if (outShape.length > MAX_RANK) {
    throw new WebGpuError(
      'unsupported',
      `webgpu: ${kernel} on shape ${formatShape(shape)} needs rank ${outShape.length} after merging dimensions; at most ${MAX_RANK} is supported`,
    );
  }
  for (const s of stridesList) {
    if (s.some((x) => x < 0)) {
      throw new WebGpuError(
        'unsupported',
        `webgpu: ${kernel}: negative strides [${s}] are not supported`,
      );
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Parameter words for strided element-wise kernels: [n, rank, shape x6, then per view strides
 * x6 + offset (7 words, so view t starts at word 8 + 7t)].
 */
export function stridedParams(
  views: readonly KernelTensor[],
  shape: readonly number[],
  kernel: string,
): number[] {
  const merged = mergeDimensions(
    kernel,
    shape,
    views.map((v) => v.strides),
  );
  const params = new Array<number>(8 + 7 * views.length).fill(0);
  params[0] = sizeOf(shape);
  params[1] = merged.shape.length;
  merged.shape.forEach((s, d) => {
    params[2 + d] = s;
  });
  views.forEach((v, t) => {
    merged.strides[t].forEach((s, d) => {
      params[8 + 7 * t + d] = s;
    });
    params[8 + 7 * t + 6] = v.offset;
  });
  return params;
}
