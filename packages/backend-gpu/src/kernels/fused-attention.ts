// Fused attention (forward, no dropout) and the AdamW step.
// Attention: one workgroup of 64 per query row (b, h, t). Keys are visited in chunks of 64: each
// invocation scores one key of the chunk, then the chunk joins a running (online) softmax whose
// accumulator is split over the invocations by output dimension (d = lid + 64i, Dv <= 256).
// Keys and values may have fewer heads than the queries (grouped-query attention): row (b, h)
// reads key/value block floor((b * H + h) / group), group = H / Hkv query heads per kv head.
import {
  headStrideOf,
  type KernelAttributes,
  type KernelTensor,
} from '@llmkit/core-tensor/backend';
import { formatShape } from '@llmkit/utils';
import type { GpuBuffer } from '../buffers.js';
import { WebGpuError } from '../errors.js';
import { f32Bits, grid, type Runtime } from '../runtime.js';
import { ENTRY_256, MATH_WGSL, PARAMS_WGSL, sizeOf } from '../wgsl.js';
import { scratchWgsl, workgroupReduce } from './rows-wgsl.js';

const gpuOf = (t: KernelTensor) => (t.buffer as GpuBuffer).gpu;
const MAX_HEAD = 256;

/** attention: softmax(q k^T scale + masks) v for q [B,H,T,D], k [B,Hkv,S,D], v [B,Hkv,S,Dv]. */
export function attention(
  rt: Runtime,
  inputs: readonly KernelTensor[],
  out: KernelTensor,
  attrs: KernelAttributes,
): void {
  const [q, k, v] = inputs;
  const hasMask = Boolean(attrs.hasMask);
  const mask = hasMask ? inputs[3] : undefined;
  const [B, H, T, D] = q.shape;
  const S = k.shape[2];
  const Dv = v.shape[3];
  if (D > MAX_HEAD || Dv > MAX_HEAD) {
    throw new WebGpuError(
      'unsupported',
      `webgpu: attention head sizes up to ${MAX_HEAD}, got q ${formatShape(q.shape)}, v ${formatShape(v.shape)}`,
    );
  }
  const rows = B * H * T;
  if (rows === 0 || Dv === 0) return;
  const causal = Boolean(attrs.causal);
  rt.run({
    kernel: 'attention',
    key: `attention:${causal}:${hasMask}`,
    shader: () => `${PARAMS_WGSL}${MATH_WGSL}
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
${hasMask ? '@group(0) @binding(4) var<storage, read> MASK: array<u32>;' : ''}
@group(0) @binding(${hasMask ? 5 : 4}) var<storage, read_write> O: array<f32>;
var<workgroup> qRow: array<f32, ${MAX_HEAD}>;
var<workgroup> probs: array<f32, 64>;
${scratchWgsl(2, 64)}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  // p: [rows, T, S, D, Dv, scale, qOffset, kOffset, vOffset, maskOffset, outOffset,
  //     kHeadStride, vHeadStride, group] (k and v heads may be spaced apart: a KV cache's buffer)
  let row = wid.y * nwg.x + wid.x;
  if (row >= p(0u)) { return; }
  let T = p(1u); let S = p(2u); let D = p(3u); let Dv = p(4u);
  let scale = pf(5u);
  let bh = row / T;
  let kvh = bh / p(13u);
  let t = row % T;
  for (var d = lid; d < D; d += 64u) { qRow[d] = Q[p(6u) + row * D + d]; }
  workgroupBarrier();
  var runMax = -infinity();
  var runSum = 0.0;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var s0 = 0u; s0 < S; s0 += 64u) {
    let s = s0 + lid;
    var score = -infinity();
    var visible = s < S;
    ${causal ? 'if (s + T > t + S) { visible = false; }' : ''}
    ${hasMask ? 'if (visible && MASK[p(9u) + row * S + s] == 0u) { visible = false; }' : ''}
    if (visible) {
      var dot = 0.0;
      let kBase = p(7u) + kvh * p(11u) + s * D;
      for (var d = 0u; d < D; d++) { dot = fma(qRow[d], K[kBase + d], dot); }
      score = dot * scale;
    }
    ${workgroupReduce('max', 'score', 'chunkMax', 0, 64)}
    let newMax = max(runMax, chunkMax);
    // While every key so far is hidden, newMax is -inf: keep the (empty) state unchanged.
    let empty = newMax == -infinity();
    let correction = select(exp(runMax - newMax), 1.0, empty);
    let pr = select(0.0, exp(score - newMax), visible);
    probs[lid] = pr;
    ${workgroupReduce('sum', 'pr', 'chunkSum', 1, 64)}
    runSum = runSum * correction + chunkSum;
    workgroupBarrier();
    let count = min(64u, S - s0);
    for (var i = 0u; i < 4u; i++) {
      let d = lid + 64u * i;
      if (d < Dv) {
        var a = acc[i] * correction;
        for (var j = 0u; j < count; j++) {
          a = fma(probs[j], V[p(8u) + kvh * p(12u) + (s0 + j) * Dv + d], a);
        }
        acc[i] = a;
      }
    }
    runMax = newMax;
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let d = lid + 64u * i;
    if (d < Dv) { O[p(10u) + row * Dv + d] = acc[i] / runSum; }
  }
}`,
    buffers: [gpuOf(q), gpuOf(k), gpuOf(v), ...(mask ? [gpuOf(mask)] : []), gpuOf(out)],
    params: [
      rows,
      T,
      S,
      D,
      Dv,
      f32Bits(Number(attrs.scale)),
      q.offset,
      k.offset,
      v.offset,
      mask?.offset ?? 0,
      out.offset,
      headStrideOf(k) ?? S * D,
      headStrideOf(v) ?? S * Dv,
      H / k.shape[1],
    ],
    workgroups: grid(rows, 1),
  });
}

/** adamw: PyTorch's AdamW step, in place on param, m and v. */
export function adamw(
  rt: Runtime,
  [param, grad, m, v]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const n = sizeOf(param.shape);
  if (n === 0) return;
  const step = Number(attrs.step);
  const b1 = Number(attrs.beta1);
  const b2 = Number(attrs.beta2);
  rt.run({
    kernel: 'adamw',
    key: 'adamw',
    shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> Param: array<f32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> Vs: array<f32>;
${ENTRY_256}
  // p: [n, lr, beta1, beta2, epsilon, weightDecay, 1 - beta1^step, 1 - beta2^step, offsets x4]
  if (id >= p(0u)) { return; }
  let ip = p(8u) + id; let ig = p(9u) + id; let im = p(10u) + id; let iv = p(11u) + id;
  let g = G[ig];
  let lr = pf(1u);
  var x = Param[ip];
  x -= lr * pf(5u) * x;
  let mi = pf(2u) * M[im] + (1.0 - pf(2u)) * g;
  let vi = pf(3u) * Vs[iv] + (1.0 - pf(3u)) * g * g;
  M[im] = mi;
  Vs[iv] = vi;
  Param[ip] = x - lr * (mi / pf(6u)) / (sqrt(vi / pf(7u)) + pf(4u));
}`,
    buffers: [gpuOf(param), gpuOf(grad), gpuOf(m), gpuOf(v)],
    params: [
      n,
      f32Bits(Number(attrs.lr)),
      f32Bits(b1),
      f32Bits(b2),
      f32Bits(Number(attrs.epsilon)),
      f32Bits(Number(attrs.weightDecay)),
      f32Bits(1 - b1 ** step),
      f32Bits(1 - b2 ** step),
      param.offset,
      grad.offset,
      m.offset,
      v.offset,
    ],
    workgroups: grid(n),
  });
}
