// Test helpers: where the fixtures live, and reading tensors back as plain numbers.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@llmkit/core-tensor';

/** The repository root (this file is packages/transformer/src/testing/fixtures.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** The GPT-2 tiny fixture folder (`fixtures/gpt2-tiny` at the repository root, 650 KB). */
export const GPT2_TINY = join(REPO_ROOT, 'fixtures', 'gpt2-tiny');

/** True when the fixture is present; logs why tests skip otherwise. */
export function haveFixture(path: string): boolean {
  const ok = existsSync(path);
  if (!ok) console.warn(`skipping: fixture ${path} is absent`);
  return ok;
}

/** Any tensor's elements as JavaScript numbers (int64 included). */
export async function numbers(t: Tensor): Promise<number[]> {
  const data = await t.data<Float32Array | Int32Array | BigInt64Array | Float64Array>();
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

/** Largest absolute difference between two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
