import type { DType } from '../dtype.js';
import { type ConformanceCase, caseList, SpecMaker, type TensorSpec } from './cases.js';
import { decoderCases } from './decoder-cases.js';
import { quantizedCases } from './quantized-cases.js';

/**
 * Cases for softmax, layerNorm(+Backward), crossEntropy(+Backward), attention(+Backward),
 * geluBackward, embeddingBackward, adamw, quantizedMatmul, and decoder-cases.ts' (grouped-query
 * attention, rmsNorm, rope).
 */
export function fusedCases(floatDTypes: DType[], seed = 2): ConformanceCase[] {
  const m = new SpecMaker(seed);
  const { cases, add } = caseList();

  for (const dtype of floatDTypes) {
    const tol = dtype === 'float32' ? 1e-5 : 1e-12;
    const wide = () => m.generator.nextNormal() * 30;
    for (const [R, N] of [
      [1, 1],
      [4, 7],
      [3, 300],
      [0, 5],
    ]) {
      for (const log of [false, true]) {
        add(
          `softmax ${dtype} [${R},${N}] log=${log}`,
          'softmax',
          [m.dense(dtype, [R, N], wide)],
          [m.output(dtype, [R, N])],
          { log },
          tol,
        );
      }
    }
    for (const [hasWeight, hasBias] of [
      [true, true],
      [true, false],
      [false, false],
    ]) {
      const [R, C] = [5, 12];
      const x = m.dense(dtype, [R, C], () => m.generator.nextNormal() * 4 + 2);
      const params = [
        ...(hasWeight ? [m.dense(dtype, [C])] : []),
        ...(hasBias ? [m.dense(dtype, [C])] : []),
      ];
      const attrs = { epsilon: 1e-5, hasWeight, hasBias };
      add(
        `layerNorm ${dtype} weight=${hasWeight} bias=${hasBias}`,
        'layerNorm',
        [x, ...params],
        [m.output(dtype, [R, C]), m.output(dtype, [R]), m.output(dtype, [R])],
        attrs,
        tol * 10,
      );
      // Backward inputs: mean and rstd computed here from x, as the forward would.
      const mean = m.dense(dtype, [R], () => 0);
      const rstd = m.dense(dtype, [R], () => 0);
      for (let r = 0; r < R; r++) {
        let s = 0;
        for (let j = 0; j < C; j++) s += Number(x.data[r * C + j]);
        const mu = s / C;
        let v = 0;
        for (let j = 0; j < C; j++) v += (Number(x.data[r * C + j]) - mu) ** 2;
        (mean.data as Float64Array)[r] = mu;
        (rstd.data as Float64Array)[r] = 1 / Math.sqrt(v / C + 1e-5);
      }
      const outs = [
        m.output(dtype, [R, C]),
        ...(hasWeight ? [m.output(dtype, [C])] : []),
        ...(hasBias ? [m.output(dtype, [C])] : []),
      ];
      add(
        `layerNormBackward ${dtype} weight=${hasWeight} bias=${hasBias}`,
        'layerNormBackward',
        [m.dense(dtype, [R, C]), x, mean, rstd, ...(hasWeight ? [params[0]] : [])],
        outs,
        { hasWeight, hasBias },
        tol * 10,
      );
    }
    for (const labelSmoothing of [0, 0.1]) {
      const [R, V] = [6, 11];
      const logits = m.dense(dtype, [R, V], wide);
      const targets = m.dense('int32', [R], () => m.generator.nextInt(0, V));
      (targets.data as Int32Array)[2] = -100;
      const attrs = { ignoreIndex: -100, labelSmoothing };
      add(
        `crossEntropy ${dtype} smoothing=${labelSmoothing}`,
        'crossEntropy',
        [logits, targets],
        [m.output(dtype, [R])],
        attrs,
        tol * 10,
      );
      add(
        `crossEntropyBackward ${dtype} smoothing=${labelSmoothing}`,
        'crossEntropyBackward',
        [logits, targets, m.dense(dtype, [R])],
        [m.output(dtype, [R, V])],
        attrs,
        tol * 10,
      );
    }
    for (const [T, S, causal, masked] of [
      [4, 4, true, false],
      [3, 5, true, false],
      [4, 6, false, true],
      [1, 1, false, false],
    ] as [number, number, boolean, boolean][]) {
      const [B, H, D, Dv] = [2, 2, 8, 5];
      const inputs = [
        m.dense(dtype, [B, H, T, D]),
        m.dense(dtype, [B, H, S, D]),
        m.dense(dtype, [B, H, S, Dv]),
      ];
      if (masked)
        inputs.push(m.dense('bool', [B, H, T, S], () => (m.generator.nextFloat() < 0.8 ? 1 : 0)));
      if (masked) for (let i = 0; i < B * H * T; i++) (inputs[3].data as Uint8Array)[i * S] = 1;
      add(
        `attention ${dtype} T=${T} S=${S} causal=${causal} mask=${masked}`,
        'attention',
        inputs,
        [m.output(dtype, [B, H, T, Dv])],
        { causal, scale: 1 / Math.sqrt(D), hasMask: masked },
        tol * 10,
      );
    }
    // One query row (a decoded token) over many keys, head widths past a vector: D 40, Dv 48
    for (const causal of [true, false]) {
      const [B, H, T, S, D, Dv] = [1, 3, 1, 37, 40, 48];
      add(
        `attention ${dtype} one query T=${T} S=${S} D=${D} Dv=${Dv} causal=${causal}`,
        'attention',
        [m.dense(dtype, [B, H, T, D]), m.dense(dtype, [B, H, S, D]), m.dense(dtype, [B, H, S, Dv])],
        [m.output(dtype, [B, H, T, Dv])],
        { causal, scale: 1 / Math.sqrt(D), hasMask: false },
        tol * 10,
      );
    }
    for (const [T, S, causal] of [
      [4, 4, true],
      [3, 5, true],
      [4, 6, false],
      [1, 1, false],
    ] as [number, number, boolean][]) {
      const [B, H, D, Dv] = [2, 2, 8, 5];
      const [q, k, v] = [
        m.dense(dtype, [B, H, T, D]),
        m.dense(dtype, [B, H, S, D]),
        m.dense(dtype, [B, H, S, Dv]),
      ];
      const attrs = { causal, scale: 1 / Math.sqrt(D) };
      add(
        `attention ${dtype} with logsumexp T=${T} S=${S} causal=${causal}`,
        'attention',
        [q, k, v],
        [m.output(dtype, [B, H, T, Dv]), m.output(dtype, [B, H, T])],
        { ...attrs, hasMask: false },
        tol * 10,
        { requires: ['attentionBackward'] },
      );
      // Backward from a consistent forward: out and logsumexp as the kernel would give them.
      const { out, logsumexp } = referenceAttention(q, k, v, attrs.scale, causal);
      add(
        `attentionBackward ${dtype} T=${T} S=${S} causal=${causal}`,
        'attentionBackward',
        [
          q,
          k,
          v,
          fromValues(m, dtype, out),
          m.dense(dtype, out.shape),
          fromValues(m, dtype, logsumexp),
        ],
        [
          m.output(dtype, [B, H, T, D]),
          m.output(dtype, [B, H, S, D]),
          m.output(dtype, [B, H, S, Dv]),
        ],
        attrs,
        tol * 10,
      );
    }
    for (const [B, H, T, S, causal] of [
      [1, 3, 1, 5, true],
      [2, 2, 3, 4, true],
      [2, 1, 2, 3, false],
    ] as [number, number, number, number, boolean][]) {
      // Keys and values as a KV cache holds them: views of a buffer with room for 7 positions.
      const [D, Dv, room] = [4, 3, 7];
      const cached = (width: number): TensorSpec => {
        const buffer = m.dense(dtype, [B, H, room, width]);
        return {
          ...buffer,
          shape: [B, H, S, width],
          strides: [H * room * width, room * width, width, 1],
        };
      };
      add(
        `attention ${dtype} keys and values in a cache buffer B=${B} H=${H} T=${T} S=${S}`,
        'attention',
        [m.dense(dtype, [B, H, T, D]), cached(D), cached(Dv)],
        [m.output(dtype, [B, H, T, Dv])],
        { causal, scale: 0.5, hasMask: false },
        tol * 10,
      );
    }
    for (const approximate of ['none', 'tanh']) {
      add(
        `geluBackward ${dtype} ${approximate}`,
        'geluBackward',
        [m.dense(dtype, [7, 9], () => m.generator.nextNormal() * 3), m.dense(dtype, [7, 9])],
        [m.output(dtype, [7, 9])],
        { approximate },
        tol,
      );
    }
    const ids = m.dense('int32', [9], () => m.generator.nextInt(0, 4));
    add(
      `embeddingBackward ${dtype}`,
      'embeddingBackward',
      [ids, m.dense(dtype, [9, 3])],
      [m.output(dtype, [5, 3])],
      {},
      tol,
    );
    for (const step of [1, 10]) {
      const n = 33;
      const positive = () => m.generator.nextFloat();
      const inputs = [
        m.dense(dtype, [n]),
        m.dense(dtype, [n]),
        m.dense(dtype, [n]),
        m.dense(dtype, [n], positive),
      ];
      const attrs = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, step };
      add(`adamw ${dtype} step ${step}`, 'adamw', inputs, [], attrs, tol * 10, {
        inPlaceInputs: [0, 2, 3],
      });
    }
  }
  cases.push(...quantizedCases(floatDTypes, m));
  cases.push(...decoderCases(floatDTypes, m));
  return cases;
}

/** A dense spec holding `values` (in order). */
export function fromValues(
  m: SpecMaker,
  dtype: DType,
  { shape, values }: { shape: number[]; values: Float64Array },
): TensorSpec {
  let i = 0;
  return m.dense(dtype, shape, () => values[i++]);
}

/**
 * out and per-row logsumexp of unmasked attention, in float64, from contiguous specs; k and v
 * may have fewer heads than q (query head h reads key/value head floor(h / (H / Hkv))).
 */
export function referenceAttention(
  q: TensorSpec,
  k: TensorSpec,
  v: TensorSpec,
  scale: number,
  causal: boolean,
): {
  out: { shape: number[]; values: Float64Array };
  logsumexp: { shape: number[]; values: Float64Array };
} {
  const [B, H, T, D] = q.shape;
  const [S, Dv] = [k.shape[2], v.shape[3]];
  const group = H / k.shape[1];
  const [Q, K, V] = [q, k, v].map((t) => t.data as Float32Array | Float64Array);
  const out = new Float64Array(B * H * T * Dv);
  const lse = new Float64Array(B * H * T);
  for (let bh = 0; bh < B * H; bh++) {
    const kv = Math.floor(bh / group);
    for (let t = 0; t < T; t++) {
      const last = causal ? Math.min(S - 1, t + S - T) : S - 1;
      const scores: number[] = [];
      for (let s = 0; s <= last; s++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += Q[(bh * T + t) * D + d] * K[(kv * S + s) * D + d];
        scores.push(dot * scale);
      }
      const max = Math.max(...scores);
      const weights = scores.map((x) => Math.exp(x - max));
      const sum = weights.reduce((a, b) => a + b, 0);
      lse[bh * T + t] = max + Math.log(sum);
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let s = 0; s <= last; s++) acc += weights[s] * V[(kv * S + s) * Dv + d];
        out[(bh * T + t) * Dv + d] = acc / sum;
      }
    }
  }
  return {
    out: { shape: [B, H, T, Dv], values: out },
    logsumexp: { shape: [B, H, T], values: lse },
  };
}
