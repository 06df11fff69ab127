// The fused attention kernel of the js backend.
import type { KernelAttributes, KernelTensor } from '../types.js';
import { dataOf, floatsOf } from './buffer.js';

/** out[b,h,t] = softmax_s(q[b,h,t] . k[b,h,s] * scale, masked) @ v[b,h,s]. */
export function attention(
  inputs: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [qT, kT, vT] = inputs;
  const mask = attrs.hasMask ? (dataOf(inputs[3]) as Uint8Array) : undefined;
  const maskOffset = attrs.hasMask ? inputs[3].offset : 0;
  const q = floatsOf(qT);
  const k = floatsOf(kT);
  const v = floatsOf(vT);
  const o = floatsOf(out);
  const [B, H, T, D] = qT.shape;
  const S = kT.shape[2];
  const Dv = vT.shape[3];
  const scale = Number(attrs.scale);
  const scores = new Float64Array(S);
  for (let bh = 0; bh < B * H; bh++) {
    for (let t = 0; t < T; t++) {
      const qBase = qT.offset + (bh * T + t) * D;
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        let hidden = attrs.causal && s > t + (S - T);
        if (mask && !mask[maskOffset + (bh * T + t) * S + s]) hidden = true;
        if (hidden) {
          scores[s] = -Infinity;
          continue;
        }
        const kBase = kT.offset + (bh * S + s) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qBase + d] * k[kBase + d];
        scores[s] = dot * scale;
        max = Math.max(max, scores[s]);
      }
      let sum = 0;
      for (let s = 0; s < S; s++) {
        scores[s] = Math.exp(scores[s] - max);
        sum += scores[s];
      }
      const oBase = (bh * T + t) * Dv;
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let s = 0; s < S; s++) acc += scores[s] * v[vT.offset + (bh * S + s) * Dv + d];
        o[oBase + d] = acc / sum;
      }
    }
  }
}
