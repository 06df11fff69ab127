import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadSafetensors, type Tensor } from '@llmkit/core-tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GPT } from '../gpt/model.js';
import { GPT2_TINY, haveFixture, maxAbsDiff, numbers } from '../testing/fixtures.js';
import { loadPretrained } from './load.js';
import { savePretrained } from './save.js';

const present = haveFixture(GPT2_TINY);

describe.skipIf(!present)('loadPretrained(gpt2-tiny) against PyTorch', () => {
  let model: GPT;
  let reference: Record<string, Tensor>;
  let inputRows: number[][];
  let greedy: number[];

  beforeAll(async () => {
    model = await loadPretrained(GPT2_TINY);
    reference = await loadSafetensors(join(GPT2_TINY, 'reference.safetensors'));
    const ids = await numbers(reference.input_ids);
    const [B, T] = reference.input_ids.shape;
    inputRows = Array.from({ length: B }, (_, b) => ids.slice(b * T, (b + 1) * T));
    greedy = await numbers(reference.greedy_ids);
  });
  afterAll(() => model?.dispose());

  it('reproduces the logits within 1e-4', async () => {
    const { logits } = model.forward(inputRows);
    expect(logits.shape).toEqual(reference.logits.shape);
    const diff = maxAbsDiff(
      await logits.data<Float32Array>(),
      await reference.logits.data<Float32Array>(),
    );
    expect(diff).toBeLessThan(1e-4);
    logits.dispose();
  });

  it('reproduces greedy_ids exactly with and without the KV cache', async () => {
    const prompt = inputRows[0];
    const newTokens = greedy.length - prompt.length;
    const cached = await model.generate([prompt], { maxNewTokens: newTokens });
    const recomputed = await model.generate([prompt], { maxNewTokens: newTokens, useCache: false });
    expect(cached[0]).toEqual(greedy);
    expect(recomputed[0]).toEqual(greedy);
  });

  it('round-trips bit-exactly through savePretrained', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmkit-gpt2-'));
    try {
      await savePretrained(model, dir);
      const again = await loadPretrained(dir);
      const a = model.stateDict();
      const b = again.stateDict();
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const key of Object.keys(a)) {
        expect(
          Buffer.from((await b[key].data()).buffer).equals(
            Buffer.from((await a[key].data()).buffer),
          ),
          key,
        ).toBe(true);
      }
      // the saved file is the fixture's own layout: same keys, same bytes
      const saved = await loadSafetensors(join(dir, 'model.safetensors'));
      const original = await loadSafetensors(join(GPT2_TINY, 'model.safetensors'));
      expect(Object.keys(saved).sort()).toEqual(Object.keys(original).sort());
      for (const key of Object.keys(original)) {
        expect(
          Buffer.from((await saved[key].data()).buffer).equals(
            Buffer.from((await original[key].data()).buffer),
          ),
          key,
        ).toBe(true);
      }
      again.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
