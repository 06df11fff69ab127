// Conformance cases of the optional fused kernels (contiguous inputs, float dtypes).
import type { KernelAttributes } from '../backend/types.js';
import type { DType } from '../dtype.js';
import { type ConformanceCase, SpecMaker, type TensorSpec } from './cases.js';

/** Cases for softmax, layerNorm(+Backward), crossEntropy(+Backward), attention, embeddingBackward, adamw. */
export function fusedCases(floatDTypes: DType[], seed = 2): ConformanceCase[] {
  const m = new SpecMaker(seed);
  const cases: ConformanceCase[] = [];
  const add = (
    name: string,
    kernel: string,
    inputs: TensorSpec[],
    outputs: TensorSpec[],
    attributes: KernelAttributes,
    tolerance: number,
    inPlaceInputs?: number[],
  ) =>
    cases.push({
      name,
      kernel,
      inputs,
      outputs,
      attributes,
      relativeTolerance: tolerance,
      absoluteTolerance: tolerance,
      inPlaceInputs,
    });

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
      add(`adamw ${dtype} step ${step}`, 'adamw', inputs, [], attrs, tol * 10, [0, 2, 3]);
    }
  }
  return cases;
}
