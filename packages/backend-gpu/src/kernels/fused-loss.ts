// Fused cross-entropy forward and backward: one workgroup of 256 per row of logits. Targets
// outside [0, V) (other than ignoreIndex) raise the runtime's failure flag, reported at the
// next read like the js backend's throw.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor/backend';
import { formatShape } from '@llmkit/utils';
import type { GpuBuffer } from '../buffers.js';
import { f32Bits, grid, type Runtime } from '../runtime.js';
import { MATH_WGSL, PARAMS_WGSL } from '../wgsl.js';
import { ROW_ENTRY, scratchWgsl, workgroupReduce } from './rows-wgsl.js';

const gpuOf = (t: KernelTensor) => (t.buffer as GpuBuffer).gpu;

// p: [R, V, logitsOffset, targetsOffset, ignoreIndex (i32), labelSmoothing, gradOffset], serial @63.
const TARGET_WGSL = /* wgsl */ `
fn targetOf(row: u32) -> i32 {
  let t = bitcast<i32>(T[p(3u) + row]);
  if (t == pi32(4u)) { return -1; }
  if (t < 0 || u32(t) >= p(1u)) {
    atomicMin(&FLAG[0], p(63u));
    atomicStore(&FLAG[1], bitcast<u32>(t));
    return -1;
  }
  return t;
}
`;

// Inline (see rows-wgsl.ts): lse = log(sum(exp(L[row]))) for the row at \`base\`.
const LOG_SUM_EXP = `var partialMax = -infinity();
  for (var j = lid; j < V; j += 256u) { partialMax = maxNan(partialMax, L[base + j]); }
  ${workgroupReduce('max', 'partialMax', 'rowMax', 0)}
  var partialSum = 0.0;
  for (var j = lid; j < V; j += 256u) { partialSum += exp(L[base + j] - rowMax); }
  ${workgroupReduce('sum', 'partialSum', 'rowSum', 1)}
  let lse = rowMax + log(rowSum);`;

function params(
  logits: KernelTensor,
  targets: KernelTensor,
  attrs: KernelAttributes,
  gradOffset = 0,
): number[] {
  const [R, V] = logits.shape;
  return [
    R,
    V,
    logits.offset,
    targets.offset,
    Number(attrs.ignoreIndex ?? -100) | 0,
    f32Bits(Number(attrs.labelSmoothing ?? 0)),
    gradOffset,
  ];
}

function describe(
  what: string,
  logits: KernelTensor,
  targets: KernelTensor,
  attrs: KernelAttributes,
): () => string {
  return () =>
    `${what}: logits ${formatShape(logits.shape)}, targets ${formatShape(targets.shape)}: a target is out of range [0, ${logits.shape[1]}) and is not ignoreIndex ${attrs.ignoreIndex}`;
}

/** crossEntropy: per-row loss -(1-s) logp[t] - s mean(logp); 0 for ignored rows. */
export function crossEntropy(
  rt: Runtime,
  logits: KernelTensor,
  targets: KernelTensor,
  loss: KernelTensor,
  attrs: KernelAttributes,
): void {
  if (logits.shape[0] === 0) return;
  rt.run({
    kernel: 'crossEntropy',
    key: 'crossEntropy',
    shader: () => `${PARAMS_WGSL}${MATH_WGSL}${scratchWgsl(3)}
@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read_write> FLAG: array<atomic<u32>>;
${TARGET_WGSL}
${ROW_ENTRY}
  let V = p(1u);
  let base = p(2u) + row * V;
  let t = targetOf(row);
  ${LOG_SUM_EXP}
  let s = pf(5u);
  var sum = 0.0;
  for (var j = lid; j < V; j += 256u) { sum += L[base + j]; }
  ${workgroupReduce('sum', 'sum', 'logitSum', 2)}
  let meanLogp = logitSum / f32(V) - lse;
  if (lid == 0u) {
    if (t < 0) { O[row] = 0.0; } else { O[row] = -(1.0 - s) * (L[base + u32(t)] - lse) - s * meanLogp; }
  }
}`,
    buffers: [gpuOf(logits), gpuOf(targets), gpuOf(loss)],
    params: params(logits, targets, attrs),
    workgroups: grid(logits.shape[0], 1),
    describe: describe('crossEntropy', logits, targets, attrs),
  });
}

/** crossEntropyBackward: dlogits = g (softmax - (1-s) onehot - s/V); zero rows when ignored. */
export function crossEntropyBackward(
  rt: Runtime,
  logits: KernelTensor,
  targets: KernelTensor,
  gradLoss: KernelTensor,
  dlogits: KernelTensor,
  attrs: KernelAttributes,
): void {
  if (logits.shape[0] === 0) return;
  rt.run({
    kernel: 'crossEntropyBackward',
    key: 'crossEntropyBackward',
    shader: () => `${PARAMS_WGSL}${MATH_WGSL}${scratchWgsl(3)}
@group(0) @binding(1) var<storage, read> L: array<f32>;
@group(0) @binding(2) var<storage, read> T: array<u32>;
@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read_write> FLAG: array<atomic<u32>>;
${TARGET_WGSL}
${ROW_ENTRY}
  let V = p(1u);
  let base = p(2u) + row * V;
  let t = targetOf(row);
  ${LOG_SUM_EXP}
  let s = pf(5u);
  let g = G[p(6u) + row];
  for (var j = lid; j < V; j += 256u) {
    var d = 0.0;
    if (t >= 0) { d = g * (exp(L[base + j] - lse) - select(0.0, 1.0 - s, j == u32(t)) - s / f32(V)); }
    O[row * V + j] = d;
  }
}`,
    buffers: [gpuOf(logits), gpuOf(targets), gpuOf(gradLoss), gpuOf(dlogits)],
    params: params(logits, targets, attrs, gradLoss.offset),
    workgroups: grid(logits.shape[0], 1),
    describe: describe('crossEntropyBackward', logits, targets, attrs),
  });
}
