// Fused softmax, layer-norm and RMS-norm kernels of the js backend (reference formulas, float64
// math).
import type { KernelAttributes, KernelTensor } from '../types.js';
import { floatsOf } from './buffer.js';

/** softmax / log-softmax over the last dimension of a contiguous [R, N] input. */
export function softmax(
  [x]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const src = floatsOf(x);
  const dst = floatsOf(out);
  const N = x.shape.length ? x.shape[x.shape.length - 1] : 1;
  const R = N === 0 ? 0 : dst.length / N;
  const o = x.offset;
  for (let r = 0; r < R; r++) {
    const base = r * N;
    let max = -Infinity;
    for (let j = 0; j < N; j++) max = Math.max(max, src[o + base + j]);
    let sum = 0;
    for (let j = 0; j < N; j++) sum += Math.exp(src[o + base + j] - max);
    if (attrs.log) {
      const lse = max + Math.log(sum);
      for (let j = 0; j < N; j++) dst[base + j] = src[o + base + j] - lse;
    } else {
      for (let j = 0; j < N; j++) dst[base + j] = Math.exp(src[o + base + j] - max) / sum;
    }
  }
}

export function layerNorm(
  inputs: readonly KernelTensor[],
  [y, mean, rstd]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [x] = inputs;
  const w = attrs.hasWeight ? floatsOf(inputs[1]) : undefined;
  const b = attrs.hasBias ? floatsOf(inputs[attrs.hasWeight ? 2 : 1]) : undefined;
  const eps = Number(attrs.epsilon);
  const src = floatsOf(x);
  const out = floatsOf(y);
  const means = floatsOf(mean);
  const rstds = floatsOf(rstd);
  const C = x.shape[x.shape.length - 1];
  const R = means.length;
  for (let r = 0; r < R; r++) {
    const base = x.offset + r * C;
    let m = 0;
    for (let j = 0; j < C; j++) m += src[base + j];
    m /= C;
    let v = 0;
    for (let j = 0; j < C; j++) v += (src[base + j] - m) ** 2;
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    means[r] = m;
    rstds[r] = s;
    for (let j = 0; j < C; j++) {
      let value = (src[base + j] - m) * s;
      if (w) value *= w[j];
      if (b) value += b[j];
      out[r * C + j] = value;
    }
  }
}

/**
 * inputs [x [R, C], weight [C]?], outputs [y [R, C], rstd [R]]: rstd = 1 / sqrt(mean(x^2) + eps),
 * y = x * rstd * weight (LLaMA's RMSNorm).
 */
export function rmsNorm(
  inputs: readonly KernelTensor[],
  [y, rstd]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [x] = inputs;
  const src = floatsOf(x);
  const w = attrs.hasWeight ? floatsOf(inputs[1]) : undefined;
  const wOffset = attrs.hasWeight ? inputs[1].offset : 0;
  const out = floatsOf(y);
  const rstds = floatsOf(rstd);
  const eps = Number(attrs.epsilon);
  const [R, C] = x.shape;
  for (let r = 0; r < R; r++) {
    const base = x.offset + r * C;
    let squares = 0;
    for (let j = 0; j < C; j++) squares += src[base + j] * src[base + j];
    const s = 1 / Math.sqrt(squares / C + eps);
    rstds[rstd.offset + r] = s;
    for (let j = 0; j < C; j++) {
      const value = src[base + j] * s;
      out[y.offset + r * C + j] = w ? value * w[wOffset + j] : value;
    }
  }
}

export function layerNormBackward(
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const [dyT, xT, meanT, rstdT] = inputs;
  const w = attrs.hasWeight ? floatsOf(inputs[4]) : undefined;
  const dy = floatsOf(dyT);
  const x = floatsOf(xT);
  const means = floatsOf(meanT);
  const rstds = floatsOf(rstdT);
  const dx = floatsOf(outputs[0]);
  const dw = attrs.hasWeight ? floatsOf(outputs[1]) : undefined;
  const db = attrs.hasBias ? floatsOf(outputs[attrs.hasWeight ? 2 : 1]) : undefined;
  const C = xT.shape[xT.shape.length - 1];
  const R = means.length;
  const dwAcc = new Float64Array(C);
  const dbAcc = new Float64Array(C);
  const dxhat = new Float64Array(C);
  for (let r = 0; r < R; r++) {
    const m = means[r];
    const s = rstds[r];
    let meanD = 0;
    let meanDX = 0;
    for (let j = 0; j < C; j++) {
      const g = dy[dyT.offset + r * C + j];
      const xhat = (x[xT.offset + r * C + j] - m) * s;
      dwAcc[j] += g * xhat;
      dbAcc[j] += g;
      dxhat[j] = w ? g * w[j] : g;
      meanD += dxhat[j];
      meanDX += dxhat[j] * xhat;
    }
    meanD /= C;
    meanDX /= C;
    for (let j = 0; j < C; j++) {
      const xhat = (x[xT.offset + r * C + j] - m) * s;
      dx[r * C + j] = s * (dxhat[j] - meanD - xhat * meanDX);
    }
  }
  if (dw) for (let j = 0; j < C; j++) dw[j] = dwAcc[j];
  if (db) for (let j = 0; j < C; j++) db[j] = dbAcc[j];
}
