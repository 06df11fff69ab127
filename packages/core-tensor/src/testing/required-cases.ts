// Conformance cases of the required kernels.
import { type BinaryOp, FLOAT_UNARY_OPS, type UnaryOp } from '../backend/types.js';
import type { DType } from '../dtype.js';
import { type ConformanceCase, caseList, SpecMaker, type TensorSpec } from './cases.js';
import { structuredCases } from './structured-cases.js';

const ARITHMETIC: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];
const COMPARE: BinaryOp[] = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];

/** Cases for fill, copy, cast, unary, binary, where, reduce, matmul, gather and scatterAdd. */
export function requiredCases(floatDTypes: DType[], seed = 1): ConformanceCase[] {
  const m = new SpecMaker(seed);
  const { cases, add } = caseList();

  for (const dtype of ['float32', 'int32', 'bool'] as DType[]) {
    for (const shape of [[], [0], [3, 4]])
      add(`fill ${dtype} [${shape}]`, 'fill', [], [m.output(dtype, shape)], { value: 2.7 });
  }
  const copyInto = (shape: number[], dtype: DType): TensorSpec => {
    const out = m.sliced(dtype, shape, () => 0);
    return out;
  };
  add(
    'copy transposed -> slice',
    'copy',
    [m.transposed('float32', [3, 5])],
    [copyInto([3, 5], 'float32')],
  );
  add(
    'copy sliced int32 -> slice',
    'copy',
    [m.sliced('int32', [2, 3, 2])],
    [copyInto([2, 3, 2], 'int32')],
  );
  add(
    'copy broadcast -> dense',
    'copy',
    [m.broadcast(m.dense('float32', [1, 4]), [3, 4])],
    [m.output('float32', [3, 4])],
  );
  add('copy size-0', 'copy', [m.dense('float32', [0, 3])], [m.output('float32', [0, 3])]);

  const castPairs: [DType, DType][] = [
    ['float32', 'int32'],
    ['int32', 'float32'],
    ['float32', 'bool'],
    ['bool', 'float32'],
    ['float32', 'float16'],
    ['float16', 'float32'],
    ['float32', 'bfloat16'],
    ['bfloat16', 'float32'],
    ['int8', 'float32'],
    ['uint8', 'float32'],
    ['int64', 'int32'],
    ['float32', 'int8'],
    ['float32', 'uint8'],
  ];
  for (const [from, to] of castPairs) {
    const draw = from === 'float32' ? () => m.generator.nextNormal() * 100 : undefined;
    add(
      `cast ${from} -> ${to}`,
      'cast',
      [m.transposed(from, [3, 4], draw)],
      [m.output(to, [3, 4])],
      { dtype: to },
    );
  }

  for (const dtype of floatDTypes) {
    const positive = () => m.generator.nextFloat() * 5 + 0.01;
    for (const op of FLOAT_UNARY_OPS) {
      const needsPositive = op === 'log' || op === 'sqrt' || op === 'rsqrt';
      const draw = needsPositive ? positive : () => m.generator.nextNormal() * 3;
      const tol = dtype === 'float32' ? 2e-6 : 1e-12;
      add(
        `unary ${op} ${dtype} transposed`,
        'unary',
        [m.transposed(dtype, [4, 5], draw)],
        [m.output(dtype, [4, 5])],
        { op },
        tol,
      );
      add(
        `unary ${op} ${dtype} sliced`,
        'unary',
        [m.sliced(dtype, [3, 1, 2], draw)],
        [m.output(dtype, [3, 1, 2])],
        { op },
        tol,
      );
      add(
        `unary ${op} ${dtype} scalar`,
        'unary',
        [m.dense(dtype, [], draw)],
        [m.output(dtype, [])],
        { op },
        tol,
      );
      add(
        `unary ${op} ${dtype} size-0`,
        'unary',
        [m.dense(dtype, [2, 0])],
        [m.output(dtype, [2, 0])],
        { op },
      );
    }
    for (const op of [
      'neg',
      'abs',
      'sign',
      'square',
      'reciprocal',
      'relu',
      'sigmoid',
      'tanh',
    ] as UnaryOp[]) {
      add(
        `unary ${op} ${dtype} magnitudes`,
        'unary',
        [m.dense(dtype, [64], m.magnitudes())],
        [m.output(dtype, [64])],
        { op },
        2e-6,
      );
    }
    for (const op of [...ARITHMETIC, ...COMPARE]) {
      const out = COMPARE.includes(op) ? 'bool' : dtype;
      const left = op === 'pow' ? () => m.generator.nextFloat() * 3 + 0.1 : undefined;
      const tol = dtype === 'float32' ? 2e-6 : 1e-12;
      const a = m.broadcast(m.dense(dtype, [3, 1], left), [2, 3, 4]);
      const b = m.broadcast(m.transposed(dtype, [1, 4]), [2, 3, 4]);
      add(
        `binary ${op} ${dtype} broadcast`,
        'binary',
        [a, b],
        [m.output(out, [2, 3, 4])],
        { op },
        tol,
      );
      add(
        `binary ${op} ${dtype} sliced`,
        'binary',
        [m.sliced(dtype, [3, 2], left), m.transposed(dtype, [3, 2])],
        [m.output(out, [3, 2])],
        { op },
        tol,
      );
      add(
        `binary ${op} ${dtype} size-0`,
        'binary',
        [m.dense(dtype, [0, 2]), m.dense(dtype, [0, 2])],
        [m.output(out, [0, 2])],
        { op },
      );
      if (op !== 'pow') {
        add(
          `binary ${op} ${dtype} magnitudes`,
          'binary',
          [m.dense(dtype, [50], m.magnitudes()), m.dense(dtype, [50], m.magnitudes())],
          [m.output(out, [50])],
          { op },
          tol,
        );
      }
    }
    // Ties for comparisons and maximum/minimum.
    const ints = () => m.generator.nextInt(-2, 3);
    for (const op of ['eq', 'le', 'maximum'] as BinaryOp[]) {
      add(
        `binary ${op} ${dtype} ties`,
        'binary',
        [m.dense(dtype, [20], ints), m.dense(dtype, [20], ints)],
        [m.output(op === 'maximum' ? dtype : 'bool', [20])],
        { op },
      );
    }
  }
  for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'lt', 'eq'] as BinaryOp[]) {
    const b = m.dense(
      'int32',
      [3, 4],
      () => m.generator.nextInt(1, 9) * (m.generator.nextFloat() < 0.5 ? -1 : 1),
    );
    add(
      `binary ${op} int32`,
      'binary',
      [m.dense('int32', [3, 4]), b],
      [m.output(COMPARE.includes(op) ? 'bool' : 'int32', [3, 4])],
      { op },
    );
  }
  for (const op of ['and', 'or', 'eq'] as BinaryOp[]) {
    add(
      `binary ${op} bool`,
      'binary',
      [m.dense('bool', [10]), m.broadcast(m.dense('bool', [1]), [10])],
      [m.output('bool', [10])],
      { op },
    );
  }
  for (const op of ['neg', 'abs', 'sign'] as UnaryOp[])
    add(`unary ${op} int32`, 'unary', [m.dense('int32', [7])], [m.output('int32', [7])], { op });
  add('unary not bool', 'unary', [m.transposed('bool', [3, 2])], [m.output('bool', [3, 2])], {
    op: 'not',
  });

  for (const dtype of floatDTypes) {
    add(
      `where ${dtype} broadcast`,
      'where',
      [
        m.broadcast(m.dense('bool', [3, 1]), [3, 4]),
        m.transposed(dtype, [3, 4]),
        m.broadcast(m.dense(dtype, []), [3, 4]),
      ],
      [m.output(dtype, [3, 4])],
    );
  }
  add(
    'where int32 size-0',
    'where',
    [m.dense('bool', [0]), m.dense('int32', [0]), m.dense('int32', [0])],
    [m.output('int32', [0])],
  );

  return [...cases, ...structuredCases(floatDTypes, seed + 100)];
}
