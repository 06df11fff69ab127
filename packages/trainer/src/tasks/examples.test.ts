import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The worked examples in examples/ run against dist (turbo builds it before tests): a few steps
// each, to keep them working; their real figures are in examples/README.md.
const run = promisify(execFile);
const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const shared = fileURLToPath(new URL('../../../../../shared/data/sentiment', import.meta.url));

async function lastJson(name: string, ...args: string[]) {
  const { stdout } = await run(process.execPath, [example(name), ...args], { timeout: 110_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('worked examples', () => {
  it('numbers to words: trains and reports exact match', async () => {
    const result = await lastJson('numbers-to-words.mjs', '4');
    expect(result).toMatchObject({ example: 'numbers-to-words', steps: 4 });
    expect(result.exactMatch).toBeGreaterThanOrEqual(0);
    expect(result.exactMatch).toBeLessThanOrEqual(1);
  });

  it.skipIf(!existsSync(shared))(
    'sentiment and replay (need ../shared/data/sentiment)',
    async () => {
      const [sentiment, replay] = await Promise.all([
        lastJson('sentiment.mjs', shared, '4'),
        lastJson('replay.mjs', shared, '4', '4'),
      ]);
      expect(sentiment.heldOutAccuracy).toBeGreaterThan(0.3);
      expect(sentiment.heldOutAccuracy).toBeLessThan(0.7);
      expect(replay.rows.map((r: unknown[]) => r.length)).toEqual([3, 3, 3]);
    },
  );
});
