// The command stream keeps writes in order with queued kernels, through the parameter arena
// (small writes), its overflow (a batch writing more than the arena holds) and direct queue
// writes (large ones), and batches launches into few submits.
import type { KernelTensor } from '@llmkit/core-tensor/backend';
import { describe, expect, it } from 'vitest';
import { testBackend } from './test-support/harness.js';

const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

const view = (buffer: KernelTensor['buffer'], n: number): KernelTensor => ({
  buffer,
  dtype: 'float32',
  shape: [n],
  strides: [1],
  offset: 0,
});

describe.skipIf(!gpu)('command stream', () => {
  for (const [label, n, rounds] of [
    ['small writes through the arena', 1000, 3],
    ['writes overflowing the arena', 200_000, 12],
    ['large direct writes', 600_000, 2],
  ] as const) {
    it(`a write after a queued kernel does not overtake it: ${label}`, async () => {
      const source = gpu!.allocate('float32', n);
      const outputs = [];
      for (let round = 0; round < rounds; round++) {
        gpu!.write(source, new Float32Array(n).fill(round + 1));
        const out = gpu!.allocate('float32', n);
        gpu!.run('unary', [view(source, n)], [view(out, n)], { op: 'neg' });
        outputs.push(out);
      }
      for (let round = 0; round < rounds; round++) {
        const data = await gpu!.read(outputs[round]);
        expect([data[0], data[n - 1]]).toEqual([-(round + 1), -(round + 1)]);
        gpu!.free(outputs[round]);
      }
      gpu!.free(source);
    });
  }

  it('batches launches: one submit for many kernels until a read', async () => {
    const n = 64;
    const a = gpu!.allocate('float32', n);
    gpu!.write(a, new Float32Array(n).fill(2));
    await gpu!.read(a);
    const before = { ...gpu!.counters };
    let current = a;
    for (let i = 0; i < 50; i++) {
      const next = gpu!.allocate('float32', n);
      gpu!.run('unary', [view(current, n)], [view(next, n)], { op: 'square' });
      if (current !== a) gpu!.free(current);
      current = next;
      gpu!.run('unary', [view(current, n)], [view(current, n)], { op: 'sqrt' }); // aliased in/out
    }
    expect(gpu!.counters.submits).toBe(before.submits);
    expect((await gpu!.read(current))[0]).toBe(2);
    expect(gpu!.counters.submits).toBe(before.submits + 1);
    expect(gpu!.counters.dispatches - before.dispatches).toBe(100);
    gpu!.free(current);
    gpu!.free(a);
  });
});
