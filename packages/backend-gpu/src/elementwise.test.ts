import { type BinaryOp, FLOAT_UNARY_OPS } from '@llmkit/core-tensor/backend';
import { describe, expect, it } from 'vitest';
import { floats, mismatch, runBoth, testBackend } from './test-support/harness.js';

const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

describe.skipIf(!gpu)('element-wise kernels against js', () => {
  it('fill every dtype', async () => {
    for (const [dtype, value] of [
      ['float32', 1.5],
      ['int32', -7.9],
      ['bool', 2],
      ['float16', 0.1],
      ['bfloat16', -3.3],
      ['int8', 300],
      ['uint8', -1],
      ['float64', Math.PI],
      ['int64', -5],
    ] as const) {
      const r = await runBoth(gpu!, 'fill', [], [{ dtype, shape: [3, 5] }], { value });
      expect([...r.gpu[0]].map(String), dtype).toEqual([...r.js[0]].map(String));
    }
  });

  it('copy into a strided view with an offset', async () => {
    const x = floats(12, 1);
    const r = await runBoth(
      gpu!,
      'copy',
      [{ dtype: 'float32', data: x, shape: [3, 4], strides: [1, 3] }],
      [{ dtype: 'float32', shape: [3, 4], bufferSize: 30, strides: [6, 1], offset: 7 }],
    );
    expect(mismatch(r.gpu[0], r.js[0], 0, 0)).toBe(0);
  });

  it('unary ops on transposed input', async () => {
    const ops = FLOAT_UNARY_OPS;
    const x = floats(60, 2, 4);
    x[0] = 0;
    x[1] = 20;
    x[2] = -20;
    x[3] = 1e-3;
    for (const op of ops) {
      const r = await runBoth(
        gpu!,
        'unary',
        [{ dtype: 'float32', data: x, shape: [10, 6], strides: [1, 10] }],
        [{ dtype: 'float32', shape: [10, 6] }],
        { op },
      );
      expect(mismatch(r.gpu[0], r.js[0], 1e-6, 2e-6), op).toBeLessThanOrEqual(1);
    }
  });

  it('binary ops with broadcasting', async () => {
    const ops: BinaryOp[] = [
      'add',
      'sub',
      'mul',
      'div',
      'pow',
      'maximum',
      'minimum',
      'eq',
      'ne',
      'lt',
      'le',
      'gt',
      'ge',
    ];
    const a = floats(24, 3, 3);
    const b = floats(4, 4, 3);
    b[1] = 2;
    a[5] = Number.NaN;
    for (const op of ops) {
      const r = await runBoth(
        gpu!,
        'binary',
        [
          { dtype: 'float32', data: a, shape: [2, 3, 4], strides: [12, 4, 1], offset: 0 },
          { dtype: 'float32', data: b, shape: [2, 3, 4], strides: [0, 0, 1] },
        ],
        [
          {
            dtype: ['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op) ? 'bool' : 'float32',
            shape: [2, 3, 4],
          },
        ],
        { op },
      );

      expect(mismatch(r.gpu[0], r.js[0], 1e-6, 2e-6), op).toBeLessThanOrEqual(1);
    }
  });
});
