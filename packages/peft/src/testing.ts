// Test helpers of @llmkit/peft (not exported): fixture paths and number comparisons.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/peft. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The GPT-2 tiny fixture (`fixtures/gpt2-tiny` at the repository root). */
export const GPT2_TINY = join(PACKAGE_ROOT, '..', '..', 'fixtures', 'gpt2-tiny');
/** The hand-made PEFT adapters for gpt2-tiny (fixtures/make-adapters.py). */
export const ADAPTER_FIXTURES = join(PACKAGE_ROOT, 'fixtures');

/** True when the gpt2-tiny fixture exists; says why tests skip otherwise. */
export function haveGpt2Tiny(): boolean {
  const ok = existsSync(join(GPT2_TINY, 'model.safetensors'));
  if (!ok) console.warn(`skipping: fixture ${GPT2_TINY} is absent`);
  return ok;
}

/** True when /usr/bin/python3 can import torch; says why tests skip otherwise. */
export function haveTorch(): boolean {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  const ok = probe.status === 0;
  if (!ok)
    console.warn('skipping the PyTorch direction: /usr/bin/python3 with torch is not available');
  return ok;
}

/** Largest absolute difference between two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
