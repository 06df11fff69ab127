// Conformance cases of `quantizedMatmul`: every packed format, matrix-vector (M = 1) and
// matrix-matrix products on even and odd shapes, forward and input gradient (transposed). Packed
// bytes are random (every code is valid); block scales are drawn as fp16 bits of modest values so
// no case holds inf/NaN.
import type { DType } from '../dtype.js';
import { toFloat16Bits } from '../dtype.js';
import { type ConformanceCase, caseList, type SpecMaker, type TensorSpec } from './cases.js';

/** The packed parts of a random [N, K] weight in `format` (see js/quantized.ts for layouts). */
function packedParts(
  m: SpecMaker,
  format: string,
  N: number,
  K: number,
  group: number,
  symmetric: boolean,
): TensorSpec[] {
  const g = m.generator;
  const scale = () => 0.01 + g.nextFloat() * 0.1;
  const byte = () => g.nextInt(0, 256);
  switch (format) {
    case 'fp16':
      return [m.dense('float16', [N, K], () => g.nextNormal() * 0.1)];
    case 'bf16':
      return [m.dense('bfloat16', [N, K], () => g.nextNormal() * 0.1)];
    case 'int8':
      return [m.dense('int8', [N, K], () => g.nextInt(-127, 128)), m.dense('float32', [N], scale)];
    case 'int4':
      return [
        m.dense('uint8', [N, K / 2], byte),
        m.dense('float32', [N, K / group], scale),
        ...(symmetric ? [] : [m.dense('float32', [N, K / group], () => -g.nextFloat() * 0.5)]),
      ];
    case 'nf4':
      return [m.dense('uint8', [N, K / 2], byte), m.dense('float32', [N, K / group], scale)];
    default: {
      const blockBytes = format === 'q8_0' ? 34 : 18;
      const spec = m.dense('uint8', [N, (K / 32) * blockBytes], byte);
      const data = spec.data as Uint8Array;
      for (let b = 0; b < (N * K) / 32; b++) {
        const bits = toFloat16Bits(scale() * (g.nextFloat() < 0.5 ? -1 : 1));
        data[b * blockBytes] = bits & 255;
        data[b * blockBytes + 1] = bits >> 8;
      }
      return [spec];
    }
  }
}

/**
 * A weight value for the fp16 / bf16 cases: mostly N(0, 0.1), one in ten a subnormal of the
 * format (|w| < 2^-14 for fp16, < 2^-126 for bf16) of either sign, one in twenty a negative zero,
 * one in twenty of magnitude 1 to 8, so the conversions meet every class of finite half.
 */
function halfWeight(m: SpecMaker, format: string): () => number {
  const g = m.generator;
  const smallest = format === 'fp16' ? 2 ** -14 : 2 ** -126;
  return () => {
    const r = g.nextFloat();
    if (r < 0.1) return (g.nextFloat() * 2 - 1) * smallest;
    if (r < 0.15) return -0;
    if (r < 0.2) return (g.nextFloat() < 0.5 ? -1 : 1) * (1 + g.nextFloat() * 7);
    return g.nextNormal() * 0.1;
  };
}

/**
 * fp16 and bf16 weights on the shapes of a backend's fast paths (backend-cpu's half.cc): M = 1,
 * 3, 4, 5, 8 (matrix-vector products, rows of x four at a time; the input gradient's up to 4)
 * and 9, 37 (GEMM: a ragged register tile, and past one),
 * K = 40 and 100 (not multiples of 16 or 32: masked and scalar tails) and 1024 (four vectors of
 * every width, past one 256-deep GEMM slice), N odd; forward and input gradient (transposed).
 */
function halfCases(floatDTypes: DType[], m: SpecMaker): ConformanceCase[] {
  const { cases, add } = caseList();
  const shapes: [number, number][] = [
    [37, 40],
    [67, 100],
    [33, 1024],
  ];
  for (const dtype of floatDTypes) {
    const tol = dtype === 'float32' ? 1e-4 : 1e-12;
    for (const [format, weightDType] of [
      ['fp16', 'float16'],
      ['bf16', 'bfloat16'],
    ] as const) {
      for (const [N, K] of shapes) {
        for (const M of [1, 3, 4, 5, 8, 9, 37]) {
          for (const transposed of [false, true]) {
            add(
              `quantizedMatmul ${dtype} ${format} fast paths N=${N} K=${K} M=${M}${transposed ? ' transposed' : ''}`,
              'quantizedMatmul',
              [
                m.dense(dtype, [M, transposed ? N : K]),
                m.dense(weightDType, [N, K], halfWeight(m, format)),
              ],
              [m.output(dtype, [M, transposed ? K : N])],
              { format, groupSize: 1, symmetric: true, transposed },
              tol,
            );
          }
        }
      }
    }
  }
  return cases;
}

/**
 * Cases of the `quantizedMatmul` kernel for each float dtype of x: every format on W [6, 128]
 * with M = 1 and 5, then on odd shapes: N = 67 (odd, past one 64-wide tile), K not a multiple of
 * 64 where the format allows it (77 for fp16/bf16/int8, 96 for 32-wide groups and blocks, 192 for
 * 64-wide groups) and M = 3 and 70 (past one 64-row tile). Then `activations: 'int8'` (forward
 * only) for the formats that take it, on the same shapes with K 96 (an odd count of 32-blocks)
 * and x holding an outlier per row (a block whose scale it sets), and on N = 37 at M = 2, 5, 8,
 * 9 and 33 (whole and partial tiles of x rows and of weight rows in the tiled products for
 * several rows). Then fp16 / bf16 on the shapes of the fast paths (halfCases).
 */
export function quantizedCases(floatDTypes: DType[], m: SpecMaker): ConformanceCase[] {
  const { cases, add } = caseList();
  // [format, groupSize, symmetric, K of the odd shape]
  const formats: [string, number, boolean, number][] = [
    ['fp16', 1, true, 77],
    ['bf16', 1, true, 77],
    ['int8', 0, true, 77],
    ['int4', 32, true, 96],
    ['int4', 64, false, 192],
    ['nf4', 64, true, 192],
    ['nf4', 32, true, 96],
    ['q8_0', 32, true, 96],
    ['q4_0', 32, true, 96],
  ];
  for (const dtype of floatDTypes) {
    const tol = dtype === 'float32' ? 1e-4 : 1e-12;
    for (const [format, groupSize, symmetric, oddK] of formats) {
      const shapes: [number, number, number[], string][] = [
        [6, 128, [1, 5], ''],
        [67, oddK, [3, 70], ` N=67 K=${oddK}`],
      ];
      for (const [N, K, rows, shapeName] of shapes) {
        for (const M of rows) {
          for (const transposed of [false, true]) {
            const x = m.dense(dtype, [M, transposed ? N : K]);
            add(
              `quantizedMatmul ${dtype} ${format}${groupSize > 1 ? ` g${groupSize}` : ''}${symmetric ? '' : ' asymmetric'}${shapeName} M=${M}${transposed ? ' transposed' : ''}`,
              'quantizedMatmul',
              [x, ...packedParts(m, format, N, K, groupSize, symmetric)],
              [m.output(dtype, [M, transposed ? K : N])],
              { format, groupSize, symmetric, transposed },
              tol,
            );
          }
        }
      }
    }
  }
  const int8Formats: [string, number, number][] = [
    ['int8', 0, 96],
    ['int4', 32, 96],
    ['int4', 64, 192],
    ['int4', 128, 384],
    ['q8_0', 32, 96],
    ['q4_0', 32, 96],
  ];
  for (const dtype of floatDTypes) {
    const tol = dtype === 'float32' ? 1e-4 : 1e-12;
    for (const [format, groupSize, oddK] of int8Formats) {
      const shapes: [number, number, number[], string][] = [
        [6, 128, [1, 5], ''],
        [67, oddK, [3, 70], ` N=67 K=${oddK}`],
        [37, oddK, [2, 5, 8, 9, 33], ` N=37 K=${oddK}`],
      ];
      for (const [N, K, rows, shapeName] of shapes) {
        for (const M of rows) {
          const x = m.dense(dtype, [M, K]);
          const data = x.data as Float32Array | Float64Array;
          for (let r = 0; r < M; r++) data[r * K + ((r * 37) % K)] *= 20;
          add(
            `quantizedMatmul ${dtype} ${format}${groupSize > 1 ? ` g${groupSize}` : ''} activations int8${shapeName} M=${M}`,
            'quantizedMatmul',
            [x, ...packedParts(m, format, N, K, groupSize, true)],
            [m.output(dtype, [M, N])],
            { format, groupSize, symmetric: true, transposed: false, activations: 'int8' },
            tol,
          );
        }
      }
    }
  }
  cases.push(...halfCases(floatDTypes, m));
  return cases;
}
