import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as sampling from './index.js';

// Runs the README's example and checks each printed value against the comment beside it.
describe('README example', () => {
  it('prints what its comments say', async () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const code = readme.split('```ts\n')[1].split('```')[0];
    const printed: unknown[][] = [];
    const body = code.replace(/^import .*$/m, '').replaceAll('console.log(', 'print(');
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    await new AsyncFunction('print', ...Object.keys(sampling), body)(
      (...values: unknown[]) => printed.push(values),
      ...Object.values(sampling),
    );
    const plain = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value, (_, v) => (ArrayBuffer.isView(v) ? [...(v as Float64Array)] : v)),
      );
    expect(printed[0][0]).toEqual([3, 1, 1, 1, 3, 1, 3, 3]);
    const distribution = plain(printed[1][0]);
    expect(distribution.tokenIds).toEqual([1, 2, 3]);
    expect(distribution.probabilities.map((p: number) => Number(p.toFixed(3)))).toEqual([
      0.338, 0.088, 0.574,
    ]);
    expect(printed[2][0]).toEqual([[0, 1, 2, 3, 4]]);
    expect(printed[3][0]).toEqual([
      [2, 3, 4, 0],
      [2, 3, 4, 1],
    ]);
    expect((printed[3][1] as number[]).map((s) => Number(s.toFixed(4)))).toEqual([
      -0.1816, -1.1816,
    ]);
  });
});
