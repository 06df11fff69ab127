// The fused attention kernels of the js backend: the forward (optionally returning each row's
// logsumexp) and the backward that recomputes the weights from it (FlashAttention's backward).
// Keys and values may have fewer heads than the queries (grouped-query attention): query head h
// reads key/value head floor(h / group), group = H / Hkv, so (b, h) reads block floor(bh / group).
import { headStrideOf } from '../head-layout.js';
import type { KernelAttributes, KernelTensor } from '../types.js';
import { dataOf, floatsOf } from './buffer.js';

/** Keys visible to query t: s <= t + (S - T) when causal. */
const lastKey = (causal: boolean, t: number, T: number, S: number): number =>
  causal ? Math.min(S - 1, t + S - T) : S - 1;

/**
 * out[b,h,t] = softmax_s(q[b,h,t] . k[b,g,s] * scale, masked) @ v[b,g,s] with g = floor(h / (H /
 * Hkv)); the optional second output receives log(sum_s exp(score)) per row.
 */
export function attention(
  inputs: readonly KernelTensor[],
  [out, logsumexp]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [qT, kT, vT] = inputs;
  const mask = attrs.hasMask ? (dataOf(inputs[3]) as Uint8Array) : undefined;
  const maskOffset = attrs.hasMask ? inputs[3].offset : 0;
  const q = floatsOf(qT);
  const k = floatsOf(kT);
  const v = floatsOf(vT);
  const o = floatsOf(out);
  const lse = logsumexp ? floatsOf(logsumexp) : undefined;
  const [B, H, T, D] = qT.shape;
  const S = kT.shape[2];
  const Dv = vT.shape[3];
  const group = H / kT.shape[1]; // query heads per key/value head
  const scale = Number(attrs.scale);
  const causal = Boolean(attrs.causal);
  // Keys and values may be views of a larger buffer: (b, h) blocks dense and evenly spaced.
  const kStride = headStrideOf(kT) ?? S * D;
  const vStride = headStrideOf(vT) ?? S * Dv;
  const scores = new Float64Array(S);
  for (let bh = 0; bh < B * H; bh++) {
    const kv = Math.floor(bh / group);
    for (let t = 0; t < T; t++) {
      const qBase = qT.offset + (bh * T + t) * D;
      const last = lastKey(causal, t, T, S);
      let max = -Infinity;
      for (let s = 0; s < S; s++) {
        if (s > last || (mask && !mask[maskOffset + (bh * T + t) * S + s])) {
          scores[s] = -Infinity;
          continue;
        }
        const kBase = kT.offset + kv * kStride + s * D;
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
      if (lse) lse[logsumexp.offset + bh * T + t] = max + Math.log(sum);
      const oBase = out.offset + (bh * T + t) * Dv;
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let s = 0; s < S; s++) acc += scores[s] * v[vT.offset + kv * vStride + s * Dv + d];
        o[oBase + d] = acc / sum;
      }
    }
  }
}

/**
 * inputs [q, k, v, out, dout, logsumexp], outputs [dq, dk, dv]: with p = exp(score - lse),
 * dv = p^T dout, dp = dout v^T, ds = p * (dp - rowsum(dout * out)), dq = ds k * scale,
 * dk = ds^T q * scale (dk, dv summed over the query heads that share a key/value head).
 */
export function attentionBackward(
  [qT, kT, vT, oT, doT, lT]: readonly KernelTensor[],
  [dqT, dkT, dvT]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [q, k, v, o, dO, lse] = [qT, kT, vT, oT, doT, lT].map(floatsOf);
  const [dq, dk, dv] = [dqT, dkT, dvT].map(floatsOf);
  const [B, H, T, D] = qT.shape;
  const [Hkv, S] = kT.shape.slice(1, 3);
  const Dv = vT.shape[3];
  const group = H / Hkv;
  const scale = Number(attrs.scale);
  const causal = Boolean(attrs.causal);
  dq.fill(0, dqT.offset, dqT.offset + B * H * T * D);
  dk.fill(0, dkT.offset, dkT.offset + B * Hkv * S * D);
  dv.fill(0, dvT.offset, dvT.offset + B * Hkv * S * Dv);
  for (let bh = 0; bh < B * H; bh++) {
    const kv = Math.floor(bh / group);
    for (let t = 0; t < T; t++) {
      const row = bh * T + t;
      const qBase = qT.offset + row * D;
      const oBase = oT.offset + row * Dv;
      const doBase = doT.offset + row * Dv;
      let delta = 0;
      for (let d = 0; d < Dv; d++) delta += dO[doBase + d] * o[oBase + d];
      const rowLse = lse[lT.offset + row];
      const last = lastKey(causal, t, T, S);
      for (let s = 0; s <= last; s++) {
        const kBase = kT.offset + (kv * S + s) * D;
        const vBase = vT.offset + (kv * S + s) * Dv;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qBase + d] * k[kBase + d];
        const p = Math.exp(dot * scale - rowLse);
        let dp = 0;
        for (let d = 0; d < Dv; d++) {
          dp += dO[doBase + d] * v[vBase + d];
          dv[dvT.offset + (kv * S + s) * Dv + d] += p * dO[doBase + d];
        }
        const ds = p * (dp - delta) * scale;
        for (let d = 0; d < D; d++) {
          dq[dqT.offset + row * D + d] += ds * k[kBase + d];
          dk[dkT.offset + (kv * S + s) * D + d] += ds * q[qBase + d];
        }
      }
    }
  }
}
