// The GPT-2 fixture (fixtures/gpt2-tiny at the repository root: random weights, logits made with PyTorch in
// float64) reproduced on webgpu: logits within 1e-4 and the 12 greedy tokens exactly, both with
// @llmkit/transformer's loadPretrained (KV-cached generation) and with a forward pass written
// directly in core-tensor ops (which isolates the backend from the model code).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  argmax,
  cat,
  loadSafetensors,
  noGrad,
  setBackend,
  type Tensor,
  tidy,
} from '@llmkit/core-tensor';
import { registerBackend } from '@llmkit/core-tensor/backend';
import { loadPretrained } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { gpt2Forward } from './test-support/gpt2.js';
import { testBackend } from './test-support/harness.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/gpt2-tiny');
const present = existsSync(join(fixture, 'model.safetensors'));
if (!present) console.warn(`gpt2 fixture test skipped: ${fixture} is absent`);
const backend = await testBackend();
const gpu = typeof backend === 'string' ? undefined : backend;

describe.skipIf(!gpu || !present)('GPT-2 fixture on webgpu', () => {
  it('reproduces PyTorch logits within 1e-4 and the greedy ids exactly', async () => {
    registerBackend('webgpu', () => gpu!, 30);
    await setBackend('webgpu');
    try {
      const config = JSON.parse(readFileSync(join(fixture, 'config.json'), 'utf8'));
      const weights = await loadSafetensors(join(fixture, 'model.safetensors'));
      const reference = await loadSafetensors(join(fixture, 'reference.safetensors'));
      const ids = reference.input_ids.to('int32');
      const logits = noGrad(() => gpt2Forward(weights, config, ids));
      const expected = await reference.logits.data();
      const actual = await logits.data();
      let worst = 0;
      for (let i = 0; i < expected.length; i++)
        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      expect(actual.length).toBe(expected.length);
      console.log(`gpt2-tiny on webgpu: largest |logit - PyTorch| = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);

      // Greedy decoding, recomputing the whole sequence each step.
      const greedy = await reference.greedy_ids.to('int32').data<Int32Array>();
      let sequence: Tensor = ids.narrow(0, 0, 1);
      for (let step = 0; step < greedy.length - ids.shape[1]; step++) {
        const next = tidy(() =>
          noGrad(() => {
            const out = gpt2Forward(weights, config, sequence);
            const last = out.narrow(1, sequence.shape[1] - 1, 1).reshape([1, -1]);
            return cat([sequence, argmax(last, -1).reshape([1, 1])], 1);
          }),
        );
        sequence.dispose();
        sequence = next;
      }
      expect([...(await sequence.data<Int32Array>())]).toEqual([...greedy]);
    } finally {
      await setBackend('js');
    }
  });

  it('runs loadPretrained and cached greedy generation from @llmkit/transformer', async () => {
    registerBackend('webgpu', () => gpu!, 30);
    await setBackend('webgpu');
    try {
      const model = await loadPretrained(fixture);
      const reference = await loadSafetensors(join(fixture, 'reference.safetensors'));
      const flat = Array.from(await reference.input_ids.to('int32').data<Int32Array>());
      const [B, T] = reference.input_ids.shape;
      const rows = Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
      const { logits } = noGrad(() => model.forward(rows));
      expect(logits.backend.name).toBe('webgpu');
      const expected = await reference.logits.data();
      const actual = await logits.data();
      let worst = 0;
      for (let i = 0; i < expected.length; i++)
        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      expect(worst).toBeLessThan(1e-4);
      const greedy = Array.from(await reference.greedy_ids.to('int32').data<Int32Array>());
      const [generated] = await model.generate([rows[0]], { maxNewTokens: greedy.length - T });
      expect(generated).toEqual(greedy);
    } finally {
      await setBackend('js');
    }
  });

  it('runs a Llama checkpoint kept in bfloat16 (loadPretrained default): PyTorch logits within 1e-4', async () => {
    const llama = join(
      dirname(fileURLToPath(import.meta.url)),
      '../../transformer/fixtures/hf-families/llama-bf16',
    );
    registerBackend('webgpu', () => gpu!, 30);
    await setBackend('webgpu');
    try {
      const model = await loadPretrained(llama);
      expect(model.stateDict()['h.0.attn.c_attn.weight'].dtype).toBe('bfloat16');
      const reference = JSON.parse(readFileSync(join(llama, 'reference.json'), 'utf8'));
      const { logits } = noGrad(() => model.forward(reference.ids));
      expect(logits.backend.name).toBe('webgpu');
      const actual = await logits.data();
      const expected = (reference.logits as number[][][]).flat(2);
      let worst = 0;
      for (let i = 0; i < expected.length; i++)
        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      expect(worst).toBeLessThan(1e-4);
      const prompts = (reference.ids as number[][]).map((row) => row.slice(0, 4));
      const rows = await model.generate(prompts, { maxNewTokens: 12 });
      expect(rows.map((row) => row.slice(4))).toEqual(reference.greedy);
    } finally {
      await setBackend('js');
    }
  });

  it('runs GPT.forward on ids given as a webgpu tensor (never read back synchronously)', async () => {
    registerBackend('webgpu', () => gpu!, 30);
    await setBackend('webgpu');
    try {
      const model = await loadPretrained(fixture);
      const reference = await loadSafetensors(join(fixture, 'reference.safetensors'));
      const ids = reference.input_ids.to('int32'); // [B, T] on webgpu
      expect(ids.backend.name).toBe('webgpu');
      expect(() => ids.dataSync()).toThrow(/reads asynchronously/);
      const { logits, loss } = noGrad(() => model.forward(ids, { targets: ids }));
      expect(logits.backend.name).toBe('webgpu');
      const expected = await reference.logits.data();
      const actual = await logits.data();
      expect(actual.length).toBe(expected.length);
      let worst = 0;
      for (let i = 0; i < expected.length; i++)
        worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      expect(worst).toBeLessThan(1e-4);
      expect(Number.isFinite((await loss!.data())[0])).toBe(true);
    } finally {
      await setBackend('js');
    }
  });
});
