// The 8- and 16-bit dtypes are stored packed (four bytes or two halves a word, buffers.ts):
// round trips of odd sizes, their real size on the GPU, and the kernels that write lanes of a
// word (copy into a strided view with an offset, where, gather) against the js reference, with
// the lanes around the written elements left as they were.
import type { DType, TypedArray } from '@llmkit/core-tensor';
import { makeTypedArray } from '@llmkit/core-tensor/backend';
import { describe, expect, it } from 'vitest';
import { random, runBoth, testBackend } from './test-support/harness.js';

const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

const PACKED: DType[] = ['int8', 'uint8', 'float16', 'bfloat16'];

/** `n` random elements of `dtype` (any bits for the halves: these kernels copy bits). */
function values(dtype: DType, n: number, seed: number): TypedArray {
  const next = random(seed);
  const out = makeTypedArray(dtype, n);
  const span = dtype === 'int8' || dtype === 'uint8' ? 256 : 65536;
  const low = dtype === 'int8' ? -128 : 0;
  for (let i = 0; i < n; i++) out[i] = low + Math.floor(next() * span);
  return out;
}

describe.skipIf(!gpu)('packed 8- and 16-bit storage', () => {
  it('writes and reads back odd sizes exactly, in a quarter or half of the words', async () => {
    for (const dtype of PACKED) {
      const data = values(dtype, 7, 1);
      const buffer = gpu!.allocate(dtype, 7);
      gpu!.write(buffer, data);
      expect([...(await gpu!.read(buffer))], dtype).toEqual([...data]);
      gpu!.free(buffer);
    }
    const before = gpu!.memory().bytes;
    const bytes = gpu!.allocate('uint8', 4096);
    const halves = gpu!.allocate('float16', 4096);
    expect(gpu!.memory().bytes - before).toBe(4096 + 8192);
    gpu!.free(bytes);
    gpu!.free(halves);
  });

  it('copy of a transposed view into a strided view with an odd offset keeps the other lanes', async () => {
    for (const dtype of PACKED) {
      const r = await runBoth(
        gpu!,
        'copy',
        [{ dtype, data: values(dtype, 15, 2), shape: [3, 5], strides: [1, 3] }],
        [
          {
            dtype,
            shape: [3, 5],
            bufferSize: 41,
            strides: [11, 2],
            offset: 3,
            initial: values(dtype, 41, 3),
          },
        ],
      );
      expect([...r.gpu[0]], dtype).toEqual([...r.js[0]]);
    }
  });

  it('where and gather on packed dtypes', async () => {
    const condition = Uint8Array.from({ length: 15 }, (_, i) => Number((i * 7) % 3 === 0));
    const ids = Int32Array.of(4, 0, 2, 2, 1, 3, 0);
    for (const dtype of PACKED) {
      const chosen = await runBoth(
        gpu!,
        'where',
        [
          { dtype: 'bool', data: condition, shape: [3, 5] },
          { dtype, data: values(dtype, 15, 4), shape: [3, 5] },
          { dtype, data: values(dtype, 5, 5), shape: [3, 5], strides: [0, 1] },
        ],
        [{ dtype, shape: [3, 5] }],
      );
      expect([...chosen.gpu[0]], `where ${dtype}`).toEqual([...chosen.js[0]]);
      const gathered = await runBoth(
        gpu!,
        'gather',
        [
          { dtype, data: values(dtype, 15, 6), shape: [5, 3] },
          { dtype: 'int32', data: ids, shape: [7, 1], strides: [1, 0] },
        ],
        [{ dtype, shape: [7, 1] }],
        { axis: 0 },
      );
      expect([...gathered.gpu[0]], `gather ${dtype}`).toEqual([...gathered.js[0]]);
    }
  });
});
