import type { DType } from '../dtype.js';
import { type ConformanceCase, caseList, SpecMaker } from './cases.js';

/** Cases for reduce (every op, axis sets, size-0/size-1 dims), matmul, gather and scatterAdd. */
export function structuredCases(floatDTypes: DType[], seed = 101): ConformanceCase[] {
  const m = new SpecMaker(seed);
  const { cases, add } = caseList();
  const reduceShapes: [number[], number[][]][] = [
    [
      [3, 4, 5],
      [[0], [1], [2], [0, 2], [0, 1, 2]],
    ],
    [
      [1, 6],
      [[0], [1]],
    ],
    [
      [2, 0, 3],
      [[1], [0]],
    ],
    [[], [[]]],
  ];
  for (const dtype of [...floatDTypes, 'int32' as DType]) {
    for (const [shape, axesList] of reduceShapes) {
      for (const axes of axesList) {
        const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        for (const op of ['sum', 'prod', 'max', 'min']) {
          if ((op === 'max' || op === 'min') && axes.some((a) => shape[a] === 0)) continue;
          const input = shape.length >= 2 ? m.transposed(dtype, shape) : m.dense(dtype, shape);
          const tol = dtype === 'float32' ? 1e-5 : 1e-12;
          add(
            `reduce ${op} ${dtype} [${shape}] axes [${axes}]`,
            'reduce',
            [input],
            [m.output(dtype, kept)],
            { op, axes },
            tol,
          );
        }
        if (axes.length === 1 && shape[axes[0]] > 0) {
          for (const op of ['argmax', 'argmin']) {
            const input = m.dense(
              dtype,
              shape,
              dtype === 'int32' ? () => m.generator.nextInt(0, 3) : undefined,
            );
            add(
              `reduce ${op} ${dtype} [${shape}] axis ${axes[0]}`,
              'reduce',
              [input],
              [m.output('int32', kept)],
              { op, axes },
            );
          }
        }
      }
    }
    if (dtype !== 'int32') {
      add(
        `reduce sum ${dtype} magnitudes`,
        'reduce',
        [m.dense(dtype, [4, 16], m.magnitudes())],
        [m.output(dtype, [4, 1])],
        { op: 'sum', axes: [1] },
        1e-5,
      );
    }
  }

  for (const dtype of floatDTypes) {
    const sizes: [number, number, number][] = [
      [1, 1, 1],
      [3, 0, 2],
      [0, 4, 3],
      [17, 33, 9],
      [64, 48, 40],
      [5, 130, 7],
    ];
    for (const [M, K, N] of sizes) {
      const tol = (dtype === 'float32' ? 2e-5 : 1e-12) * Math.max(1, Math.sqrt(K));
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a = ta ? m.transposed(dtype, [M, K]) : m.dense(dtype, [M, K]);
        const b = tb ? m.transposed(dtype, [K, N]) : m.dense(dtype, [K, N]);
        add(
          `matmul ${dtype} ${M}x${K}x${N} tA=${ta} tB=${tb}`,
          'matmul',
          [a, b],
          [m.output(dtype, [M, N])],
          { transposeA: ta, transposeB: tb },
          tol,
        );
      }
    }
    const a = m.broadcast(m.dense(dtype, [1, 4, 6]), [3, 4, 6]);
    const b = m.transposed(dtype, [3, 6, 5]);
    add(
      `matmul ${dtype} broadcast batch`,
      'matmul',
      [a, b],
      [m.output(dtype, [3, 4, 5])],
      { transposeA: false, transposeB: true },
      1e-4,
    );
    const big = m.dense(dtype, [2, 8, 8], m.magnitudes());
    add(
      `matmul ${dtype} magnitudes`,
      'matmul',
      [big, m.dense(dtype, [2, 8, 8])],
      [m.output(dtype, [2, 8, 8])],
      { transposeA: false, transposeB: false },
      1e-4,
    );

    const x = m.transposed(dtype, [4, 5]);
    const index = m.dense('int32', [4, 3], () => m.generator.nextInt(0, 5));
    add(`gather ${dtype} axis 1 transposed`, 'gather', [x, index], [m.output(dtype, [4, 3])], {
      axis: 1,
    });
    const rows = m.broadcast(
      m.dense('int32', [6, 1], () => m.generator.nextInt(0, 4)),
      [6, 5],
    );
    add(
      `gather ${dtype} axis 0 broadcast index`,
      'gather',
      [m.dense(dtype, [4, 5]), rows],
      [m.output(dtype, [6, 5])],
      { axis: 0 },
    );
    const source = m.dense(dtype, [6, 5]);
    add(
      `scatterAdd ${dtype} axis 0 repeated indices`,
      'scatterAdd',
      [source, rows],
      [m.dense(dtype, [4, 5])],
      { axis: 0 },
      1e-5,
    );
    add(
      `scatterAdd ${dtype} axis 1`,
      'scatterAdd',
      [m.transposed(dtype, [4, 3]), index],
      [m.dense(dtype, [4, 5], () => 0)],
      { axis: 1 },
      1e-5,
    );
  }
  return cases;
}
