// Fused softmax, layerNorm, layerNorm backward and rmsNorm: one workgroup of 256 per row.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import type { GpuBuffer } from '../buffers.js';
import { f32Bits, grid, type Runtime } from '../runtime.js';
import { MATH_WGSL, PARAMS_WGSL, sizeOf } from '../wgsl.js';
import { ROW_ENTRY, scratchWgsl, workgroupReduce } from './rows-wgsl.js';

const gpuOf = (t: KernelTensor) => (t.buffer as GpuBuffer).gpu;
const HEADER = `${PARAMS_WGSL}${MATH_WGSL}${scratchWgsl(2)}`;

/** softmax / log-softmax over the last dimension of x [R, N]. */
export function softmax(
  rt: Runtime,
  x: KernelTensor,
  out: KernelTensor,
  attrs: KernelAttributes,
): void {
  const N = x.shape.length ? x.shape[x.shape.length - 1] : 1;
  const R = N === 0 ? 0 : sizeOf(x.shape) / N;
  if (R === 0) return;
  const log = Boolean(attrs.log);
  rt.run({
    kernel: 'softmax',
    key: `softmax:${log}`,
    shader: () => `${HEADER}
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
${ROW_ENTRY}
  // p: [R, N, xOffset]
  let N = p(1u);
  let base = p(2u) + row * N;
  var partialMax = -infinity();
  for (var j = lid; j < N; j += 256u) { partialMax = maxNan(partialMax, X[base + j]); }
  ${workgroupReduce('max', 'partialMax', 'm', 0)}
  var partialSum = 0.0;
  for (var j = lid; j < N; j += 256u) { partialSum += exp(X[base + j] - m); }
  ${workgroupReduce('sum', 'partialSum', 's', 1)}
  ${
    log
      ? 'let lse = m + log(s);\n  for (var j = lid; j < N; j += 256u) { O[row * N + j] = X[base + j] - lse; }'
      : 'for (var j = lid; j < N; j += 256u) { O[row * N + j] = exp(X[base + j] - m) / s; }'
  }
}`,
    buffers: [gpuOf(x), gpuOf(out)],
    params: [R, N, x.offset],
    workgroups: grid(R, 1),
  });
}

/** layerNorm: y = (x - mean) * rstd * weight + bias, with the row means and rstds. */
export function layerNorm(
  rt: Runtime,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [x] = inputs;
  const [y, mean, rstd] = outputs;
  const hasWeight = Boolean(attrs.hasWeight);
  const hasBias = Boolean(attrs.hasBias);
  const C = x.shape[x.shape.length - 1];
  const R = sizeOf(mean.shape);
  if (R === 0) return;
  const weight = hasWeight ? inputs[1] : undefined;
  const bias = hasBias ? inputs[hasWeight ? 2 : 1] : undefined;
  const bindings = [
    gpuOf(x),
    ...(weight ? [gpuOf(weight)] : []),
    ...(bias ? [gpuOf(bias)] : []),
    gpuOf(y),
    gpuOf(mean),
    gpuOf(rstd),
  ];
  let b = 1;
  const declare = (name: string, mode: string) =>
    `@group(0) @binding(${b++}) var<storage, ${mode}> ${name}: array<f32>;`;
  rt.run({
    kernel: 'layerNorm',
    key: `layerNorm:${hasWeight}:${hasBias}`,
    shader: () => `${HEADER}
${declare('X', 'read')}
${hasWeight ? declare('W', 'read') : ''}
${hasBias ? declare('Bias', 'read') : ''}
${declare('Y', 'read_write')}
${declare('Mean', 'read_write')}
${declare('Rstd', 'read_write')}
${ROW_ENTRY}
  // p: [R, C, epsilon, xOffset, weightOffset, biasOffset]
  let C = p(1u);
  let base = p(3u) + row * C;
  var s = 0.0;
  for (var j = lid; j < C; j += 256u) { s += X[base + j]; }
  ${workgroupReduce('sum', 's', 'total', 0)}
  let m = total / f32(C);
  var q = 0.0;
  for (var j = lid; j < C; j += 256u) { let d = X[base + j] - m; q += d * d; }
  ${workgroupReduce('sum', 'q', 'squares', 1)}
  let r = 1.0 / sqrt(squares / f32(C) + pf(2u));
  if (lid == 0u) { Mean[row] = m; Rstd[row] = r; }
  for (var j = lid; j < C; j += 256u) {
    var v = (X[base + j] - m) * r;
    ${hasWeight ? 'v *= W[p(4u) + j];' : ''}
    ${hasBias ? 'v += Bias[p(5u) + j];' : ''}
    Y[row * C + j] = v;
  }
}`,
    buffers: bindings,
    params: [
      R,
      C,
      f32Bits(Number(attrs.epsilon)),
      x.offset,
      weight?.offset ?? 0,
      bias?.offset ?? 0,
    ],
    workgroups: grid(R, 1),
  });
}

/** rmsNorm: y = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + epsilon) saved per row. */
export function rmsNorm(
  rt: Runtime,
  inputs: readonly KernelTensor[],
  [y, rstd]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [x] = inputs;
  const hasWeight = Boolean(attrs.hasWeight);
  const weight = hasWeight ? inputs[1] : undefined;
  const [R, C] = x.shape;
  if (R === 0 || C === 0) return;
  rt.run({
    kernel: 'rmsNorm',
    key: `rmsNorm:${hasWeight}`,
    shader: () => `${HEADER}
@group(0) @binding(1) var<storage, read> X: array<f32>;
${hasWeight ? '@group(0) @binding(2) var<storage, read> W: array<f32>;' : ''}
@group(0) @binding(${hasWeight ? 3 : 2}) var<storage, read_write> Y: array<f32>;
@group(0) @binding(${hasWeight ? 4 : 3}) var<storage, read_write> Rstd: array<f32>;
${ROW_ENTRY}
  // p: [R, C, epsilon, xOffset, weightOffset]
  let C = p(1u);
  let base = p(3u) + row * C;
  var q = 0.0;
  for (var j = lid; j < C; j += 256u) { let v = X[base + j]; q += v * v; }
  ${workgroupReduce('sum', 'q', 'squares', 0)}
  let r = 1.0 / sqrt(squares / f32(C) + pf(2u));
  if (lid == 0u) { Rstd[row] = r; }
  for (var j = lid; j < C; j += 256u) {
    Y[row * C + j] = X[base + j] * r${hasWeight ? ' * W[p(4u) + j]' : ''};
  }
}`,
    buffers: [gpuOf(x), ...(weight ? [gpuOf(weight)] : []), gpuOf(y), gpuOf(rstd)],
    params: [R, C, f32Bits(Number(attrs.epsilon)), x.offset, weight?.offset ?? 0],
    workgroups: grid(R, 1),
  });
}

/** layerNormBackward: dx per row; dweight and dbias as column sums in a second launch. */
export function layerNormBackward(
  rt: Runtime,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [dy, x, mean, rstd] = inputs;
  const hasWeight = Boolean(attrs.hasWeight);
  const hasBias = Boolean(attrs.hasBias);
  const weight = hasWeight ? inputs[4] : undefined;
  const [dx] = outputs;
  const dweight = hasWeight ? outputs[1] : undefined;
  const dbias = hasBias ? outputs[hasWeight ? 2 : 1] : undefined;
  const C = x.shape[x.shape.length - 1];
  const R = sizeOf(mean.shape);
  const offsets = [dy.offset, x.offset, mean.offset, rstd.offset, weight?.offset ?? 0];
  if (R > 0) {
    rt.run({
      kernel: 'layerNormBackward',
      key: `layerNormBackward:dx:${hasWeight}`,
      shader: () => `${HEADER}
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read> Mean: array<f32>;
@group(0) @binding(4) var<storage, read> Rstd: array<f32>;
${hasWeight ? '@group(0) @binding(5) var<storage, read> W: array<f32>;' : ''}
@group(0) @binding(${hasWeight ? 6 : 5}) var<storage, read_write> DX: array<f32>;
fn dxhat(j: u32, g: f32) -> f32 { return ${hasWeight ? 'g * W[p(6u) + j]' : 'g'}; }
${ROW_ENTRY}
  // p: [R, C, dyOffset, xOffset, meanOffset, rstdOffset, weightOffset]
  let C = p(1u);
  let m = Mean[p(4u) + row];
  let s = Rstd[p(5u) + row];
  var sumD = 0.0;
  var sumDX = 0.0;
  for (var j = lid; j < C; j += 256u) {
    let d = dxhat(j, DY[p(2u) + row * C + j]);
    sumD += d;
    sumDX += d * (X[p(3u) + row * C + j] - m) * s;
  }
  ${workgroupReduce('sum', 'sumD', 'totalD', 0)}
  ${workgroupReduce('sum', 'sumDX', 'totalDX', 1)}
  let meanD = totalD / f32(C);
  let meanDX = totalDX / f32(C);
  for (var j = lid; j < C; j += 256u) {
    let xhat = (X[p(3u) + row * C + j] - m) * s;
    DX[row * C + j] = s * (dxhat(j, DY[p(2u) + row * C + j]) - meanD - xhat * meanDX);
  }
}`,
      buffers: [
        gpuOf(dy),
        gpuOf(x),
        gpuOf(mean),
        gpuOf(rstd),
        ...(weight ? [gpuOf(weight)] : []),
        gpuOf(dx),
      ],
      params: [R, C, ...offsets],
      workgroups: grid(R, 1),
    });
  }
  if (!dweight && !dbias) return;
  // Column sums: workgroups of 16 columns x 16 row lanes, lanes combined in workgroup memory.
  rt.run({
    kernel: 'layerNormBackward',
    key: `layerNormBackward:columns:${hasWeight}:${hasBias}`,
    shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read> Mean: array<f32>;
@group(0) @binding(4) var<storage, read> Rstd: array<f32>;
${hasWeight ? '@group(0) @binding(5) var<storage, read_write> DW: array<f32>;' : ''}
${hasBias ? `@group(0) @binding(${hasWeight ? 6 : 5}) var<storage, read_write> DB: array<f32>;` : ''}
var<workgroup> partW: array<f32, 256>;
var<workgroup> partB: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // p: [R, C, dyOffset, xOffset, meanOffset, rstdOffset]
  let R = p(0u);
  let C = p(1u);
  let j = wid.x * 16u + lid.x;
  var w = 0.0;
  var b = 0.0;
  if (j < C) {
    for (var r = lid.y; r < R; r += 16u) {
      let g = DY[p(2u) + r * C + j];
      w += g * (X[p(3u) + r * C + j] - Mean[p(4u) + r]) * Rstd[p(5u) + r];
      b += g;
    }
  }
  let slot = lid.y * 16u + lid.x;
  partW[slot] = w;
  partB[slot] = b;
  workgroupBarrier();
  for (var h = 8u; h > 0u; h >>= 1u) {
    if (lid.y < h) {
      partW[slot] += partW[slot + h * 16u];
      partB[slot] += partB[slot + h * 16u];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && j < C) {
    ${hasWeight ? 'DW[j] = partW[lid.x];' : ''}
    ${hasBias ? 'DB[j] = partB[lid.x];' : ''}
  }
}`,
    buffers: [
      gpuOf(dy),
      gpuOf(x),
      gpuOf(mean),
      gpuOf(rstd),
      ...(dweight ? [gpuOf(dweight)] : []),
      ...(dbias ? [gpuOf(dbias)] : []),
    ],
    params: [R, C, ...offsets.slice(0, 4)],
    workgroups: [Math.max(1, Math.ceil(C / 16)), 1, 1],
  });
}
