// Cases for the kernels of a LLaMA-style decoder layer: grouped-query attention (keys and values
// with fewer heads than the queries, forward and backward, also read from a KV cache's buffer),
// rmsNorm and rope. Sizes are odd on purpose: head and row widths that are no multiple of a
// vector (16 floats), one query over 37 keys (a decoded token), Hkv = H, H / 2, H / 3 and 1
// (also over hundreds of keys, where a backend may split the work).
import type { DType } from '../dtype.js';
import { type ConformanceCase, caseList, type SpecMaker, type TensorSpec } from './cases.js';
import { fromValues, referenceAttention } from './fused-cases.js';

/** Cases for grouped-query `attention` / `attentionBackward`, `rmsNorm` and `rope`. */
export function decoderCases(floatDTypes: DType[], m: SpecMaker): ConformanceCase[] {
  const { cases, add } = caseList();
  for (const dtype of floatDTypes) {
    const tol = dtype === 'float32' ? 1e-4 : 1e-11;
    groupedAttentionCases(dtype, m, add, tol);
    rmsNormCases(dtype, m, add, tol);
    ropeCases(dtype, m, add, tol);
  }
  return cases;
}

type Add = ReturnType<typeof caseList>['add'];

function groupedAttentionCases(dtype: DType, m: SpecMaker, add: Add, tol: number): void {
  // [B, H, Hkv, T, S, D, Dv, causal, masked]
  for (const [B, H, Hkv, T, S, D, Dv, causal, masked] of [
    [1, 16, 8, 1, 37, 40, 40, true, false],
    [1, 16, 8, 1, 37, 40, 40, false, false],
    [2, 6, 2, 1, 37, 24, 20, true, false],
    [2, 6, 2, 5, 7, 12, 9, true, false],
    [2, 6, 2, 5, 7, 12, 9, false, false],
    [1, 6, 2, 40, 45, 8, 8, true, false],
    [2, 4, 1, 3, 3, 6, 5, true, false],
    [2, 6, 6, 3, 5, 7, 7, true, false],
    [2, 6, 3, 3, 5, 8, 5, false, true],
    // Decoding with one kv head (multi-query) and enough keys that backends split the work.
    [1, 8, 1, 1, 200, 64, 64, true, false],
    [1, 5, 1, 1, 600, 48, 40, false, false],
  ] as [number, number, number, number, number, number, number, boolean, boolean][]) {
    const inputs = [
      m.dense(dtype, [B, H, T, D]),
      m.dense(dtype, [B, Hkv, S, D]),
      m.dense(dtype, [B, Hkv, S, Dv]),
    ];
    if (masked) {
      const mask = m.dense('bool', [B, H, T, S], () => (m.generator.nextFloat() < 0.8 ? 1 : 0));
      for (let i = 0; i < B * H * T; i++) (mask.data as Uint8Array)[i * S] = 1;
      inputs.push(mask);
    }
    add(
      `attention ${dtype} grouped H=${H} Hkv=${Hkv} B=${B} T=${T} S=${S} D=${D} Dv=${Dv} causal=${causal} mask=${masked}`,
      'attention',
      inputs,
      [m.output(dtype, [B, H, T, Dv])],
      { causal, scale: 1 / Math.sqrt(D), hasMask: masked },
      tol,
    );
  }
  // Keys and values in a KV cache's buffer with room for 9 positions, grouped.
  for (const [B, H, Hkv, T, S] of [
    [2, 4, 2, 1, 5],
    [1, 6, 2, 3, 6],
  ]) {
    const [D, Dv, room] = [5, 3, 9];
    const cached = (width: number): TensorSpec => {
      const buffer = m.dense(dtype, [B, Hkv, room, width]);
      return {
        ...buffer,
        shape: [B, Hkv, S, width],
        strides: [Hkv * room * width, room * width, width, 1],
      };
    };
    add(
      `attention ${dtype} grouped H=${H} Hkv=${Hkv} keys and values in a cache buffer B=${B} T=${T} S=${S}`,
      'attention',
      [m.dense(dtype, [B, H, T, D]), cached(D), cached(Dv)],
      [m.output(dtype, [B, H, T, Dv])],
      { causal: true, scale: 0.4, hasMask: false },
      tol,
    );
  }
  // Training: the logsumexp output and the backward, dk and dv summed over each group.
  for (const [B, H, Hkv, T, S, causal] of [
    [2, 6, 2, 4, 4, true],
    [1, 16, 8, 3, 5, true],
    [1, 6, 2, 4, 6, false],
    [2, 4, 1, 2, 3, true],
  ] as [number, number, number, number, number, boolean][]) {
    const [D, Dv] = [12, 7];
    const [q, k, v] = [
      m.dense(dtype, [B, H, T, D]),
      m.dense(dtype, [B, Hkv, S, D]),
      m.dense(dtype, [B, Hkv, S, Dv]),
    ];
    const attrs = { causal, scale: 1 / Math.sqrt(D) };
    const what = `grouped H=${H} Hkv=${Hkv} B=${B} T=${T} S=${S} causal=${causal}`;
    add(
      `attention ${dtype} with logsumexp ${what}`,
      'attention',
      [q, k, v],
      [m.output(dtype, [B, H, T, Dv]), m.output(dtype, [B, H, T])],
      { ...attrs, hasMask: false },
      tol,
      { requires: ['attentionBackward'] },
    );
    const { out, logsumexp } = referenceAttention(q, k, v, attrs.scale, causal);
    add(
      `attentionBackward ${dtype} ${what}`,
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
        m.output(dtype, [B, Hkv, S, D]),
        m.output(dtype, [B, Hkv, S, Dv]),
      ],
      attrs,
      tol,
    );
  }
}

function rmsNormCases(dtype: DType, m: SpecMaker, add: Add, tol: number): void {
  for (const [R, C] of [
    [1, 1],
    [3, 7],
    [5, 128],
    [4, 1000],
    [2, 1024],
    [37, 24],
  ]) {
    for (const hasWeight of [true, false]) {
      const x = m.dense(dtype, [R, C], () => m.generator.nextNormal() * 3 + 1);
      add(
        `rmsNorm ${dtype} [${R},${C}] weight=${hasWeight}`,
        'rmsNorm',
        [x, ...(hasWeight ? [m.dense(dtype, [C])] : [])],
        [m.output(dtype, [R, C]), m.output(dtype, [R])],
        { epsilon: 1e-6, hasWeight },
        tol,
      );
    }
  }
  add(
    `rmsNorm ${dtype} tiny values, epsilon dominates`,
    'rmsNorm',
    [m.dense(dtype, [3, 19], () => m.generator.nextNormal() * 1e-4), m.dense(dtype, [19])],
    [m.output(dtype, [3, 19]), m.output(dtype, [3])],
    { epsilon: 1e-5, hasWeight: true },
    tol,
  );
}

function ropeCases(dtype: DType, m: SpecMaker, add: Add, tol: number): void {
  // Tables as rope.ts builds them: angles position * theta^(-2i / D), repeated over both halves.
  const tables = (Bc: number, T: number, D: number): [TensorSpec, TensorSpec] => {
    const angles = new Float64Array(Bc * T * D);
    for (let b = 0; b < Bc; b++) {
      const start = m.generator.nextInt(0, 500);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < D / 2; i++) {
          const angle = (start + t) * 10000 ** ((-2 * i) / D);
          angles[(b * T + t) * D + i] = angles[(b * T + t) * D + i + D / 2] = angle;
        }
      }
    }
    let [c, s] = [0, 0];
    return [
      m.dense(dtype, [Bc, 1, T, D], () => Math.cos(angles[c++])),
      m.dense(dtype, [Bc, 1, T, D], () => Math.sin(angles[s++])),
    ];
  };
  for (const [B, H, T, D, Bc] of [
    [1, 16, 1, 128, 1],
    [1, 8, 1, 128, 1],
    [2, 3, 5, 20, 2],
    [2, 3, 5, 20, 1],
    [1, 2, 3, 2, 1],
    [1, 5, 17, 36, 1],
  ]) {
    const x = m.dense(dtype, [B, H, T, D]);
    const [cos, sin] = tables(Bc, T, D);
    for (const transpose of [false, true]) {
      add(
        `rope ${dtype} x [${B},${H},${T},${D}] tables [${Bc},1,${T},${D}] transpose=${transpose}`,
        'rope',
        [x, cos, sin],
        [m.output(dtype, [B, H, T, D])],
        { transpose },
        tol,
      );
    }
  }
  // Tables whose halves differ: the exact rotation and its transpose, element by element.
  for (const transpose of [false, true]) {
    add(
      `rope ${dtype} unrelated cos and sin transpose=${transpose}`,
      'rope',
      [m.dense(dtype, [2, 3, 4, 10]), m.dense(dtype, [2, 1, 4, 10]), m.dense(dtype, [2, 1, 4, 10])],
      [m.output(dtype, [2, 3, 4, 10])],
      { transpose },
      tol,
    );
  }
}
