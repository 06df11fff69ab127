import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { copyFileSync } from 'node:fs';
import { loadSafetensors, saveSafetensors, type Tensor, zeros } from '@llmkit/core-tensor';
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

describe.skipIf(!present)('loadPretrained variants and bad checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmkit-gpt2-variants-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function writeVariant(
    name: string,
    edit: (tensors: Record<string, Tensor>) => Record<string, Tensor>,
  ) {
    const folder = join(dir, name);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(GPT2_TINY, 'config.json'), join(folder, 'config.json'));
    const tensors = await loadSafetensors(join(GPT2_TINY, 'model.safetensors'));
    await saveSafetensors(join(folder, 'model.safetensors'), edit(tensors));
    return folder;
  }

  it('accepts keys without the transformer. prefix, old attn.bias / masked_bias buffers and a stored lm_head', async () => {
    const folder = await writeVariant('old-style', (tensors) => {
      const out: Record<string, Tensor> = {};
      for (const [key, t] of Object.entries(tensors)) out[key.replace(/^transformer\./, '')] = t;
      out['h.0.attn.bias'] = zeros([1, 1, 64, 64]);
      out['h.1.attn.masked_bias'] = zeros([]);
      out['lm_head.weight'] = tensors['transformer.wte.weight'];
      return out;
    });
    const model = await loadPretrained(folder);
    const reference = await loadSafetensors(join(GPT2_TINY, 'reference.safetensors'));
    const ids = await numbers(reference.input_ids);
    const { logits } = model.forward([ids.slice(0, 24)]);
    const expected = (await reference.logits.data<Float32Array>()).slice(0, 24 * 512);
    expect(maxAbsDiff(await logits.data<Float32Array>(), expected)).toBeLessThan(1e-4);
    model.dispose();
  });

  it('reports missing, unexpected and mis-shaped keys in one error', async () => {
    const folder = await writeVariant('broken', (tensors) => {
      const out = { ...tensors };
      delete out['transformer.h.1.mlp.c_fc.bias'];
      out['transformer.h.0.attn.extra'] = zeros([3]);
      out['transformer.ln_f.weight'] = zeros([65]);
      out['transformer.h.0.attn.c_attn.weight'] = zeros([192, 64]); // stored [out, in]: wrong for Conv1D
      return out;
    });
    let message = '';
    try {
      await loadPretrained(folder);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/missing keys: h\.1\.mlp\.c_fc\.bias/);
    expect(message).toMatch(/unexpected keys: transformer\.h\.0\.attn\.extra/);
    expect(message).toMatch(/transformer\.ln_f\.weight: \[65\] in the file, expected \[64\]/);
    expect(message).toMatch(
      /transformer\.h\.0\.attn\.c_attn\.weight: \[192,64\] in the file, expected \[64,192\]/,
    );
    expect(message).not.toMatch(/missing keys:[^;]*ln_f/); // a mis-shaped key is not also "missing"
  });
});
