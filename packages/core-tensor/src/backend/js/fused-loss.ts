// Fused cross-entropy (forward and backward) and embedding-backward kernels of the js backend.
import { TensorError } from '../../errors.js';
import type { KernelAttributes, KernelTensor } from '../types.js';
import { dataOf, floatsOf } from './buffer.js';

function rowLogSumExp(src: ArrayLike<number>, base: number, V: number): number {
  let max = -Infinity;
  for (let j = 0; j < V; j++) max = Math.max(max, src[base + j]);
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(src[base + j] - max);
  return max + Math.log(sum);
}

function checkTarget(t: number, V: number, ignoreIndex: number): boolean {
  if (t === ignoreIndex) return false;
  if (!(t >= 0 && t < V)) {
    throw new TensorError(
      'invalid_argument',
      `crossEntropy: target ${t} is out of range [0, ${V})`,
    );
  }
  return true;
}

export function crossEntropy(
  [logits, targets]: readonly KernelTensor[],
  [loss]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const src = floatsOf(logits);
  const ids = dataOf(targets) as Int32Array;
  const out = floatsOf(loss);
  const V = logits.shape[1];
  const s = Number(attrs.labelSmoothing ?? 0);
  const ignore = Number(attrs.ignoreIndex);
  for (let r = 0; r < out.length; r++) {
    const t = ids[targets.offset + r];
    if (!checkTarget(t, V, ignore)) {
      out[r] = 0;
      continue;
    }
    const base = logits.offset + r * V;
    const lse = rowLogSumExp(src, base, V);
    let meanLogp = 0;
    if (s > 0) {
      for (let j = 0; j < V; j++) meanLogp += src[base + j] - lse;
      meanLogp /= V;
    }
    out[r] = -(1 - s) * (src[base + t] - lse) - s * meanLogp;
  }
}

export function crossEntropyBackward(
  [logits, targets, gradLoss]: readonly KernelTensor[],
  [dlogits]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const src = floatsOf(logits);
  const ids = dataOf(targets) as Int32Array;
  const g = floatsOf(gradLoss);
  const out = floatsOf(dlogits);
  const V = logits.shape[1];
  const R = logits.shape[0];
  const s = Number(attrs.labelSmoothing ?? 0);
  const ignore = Number(attrs.ignoreIndex);
  for (let r = 0; r < R; r++) {
    const t = ids[targets.offset + r];
    const o = r * V;
    if (!checkTarget(t, V, ignore)) {
      for (let j = 0; j < V; j++) out[o + j] = 0;
      continue;
    }
    const base = logits.offset + r * V;
    const lse = rowLogSumExp(src, base, V);
    const gr = g[gradLoss.offset + r];
    for (let j = 0; j < V; j++) {
      const p = Math.exp(src[base + j] - lse);
      out[o + j] = gr * (p - (j === t ? 1 - s : 0) - s / V);
    }
  }
}

export function embeddingBackward(
  [ids, gradOutput]: readonly KernelTensor[],
  [gradWeight]: readonly KernelTensor[],
): void {
  const index = dataOf(ids) as Int32Array;
  const g = floatsOf(gradOutput);
  const out = floatsOf(gradWeight);
  const [V, C] = gradWeight.shape;
  out.fill(0);
  for (let n = 0; n < ids.shape[0]; n++) {
    const id = index[ids.offset + n];
    if (!(id >= 0 && id < V)) {
      throw new TensorError(
        'invalid_argument',
        `embeddingBackward: id ${id} is out of range [0, ${V})`,
      );
    }
    for (let c = 0; c < C; c++) out[id * C + c] += g[gradOutput.offset + n * C + c];
  }
}
