// Interchange with Hugging Face PEFT: adapters written by hand in PEFT's layout by a PyTorch script
// (fixtures/make-adapters.py, committed with its outputs) load here and reproduce PyTorch's logits;
// adapters saved here are read back by the same script with the same logits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors, type Tensor } from '@llmkit/core-tensor';
import { type GPT, loadPretrained, savePretrained } from '@llmkit/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAdapter, saveAdapter } from './index.js';
import { ADAPTER_FIXTURES, GPT2_TINY, haveGpt2Tiny, haveTorch, maxAbsDiff } from './testing.js';

const present = haveGpt2Tiny();
const torch = present && haveTorch();
const scratch = mkdtempSync(join(tmpdir(), 'llmkit-peft-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function rows(t: Tensor): Promise<number[][]> {
  const flat = Array.from(await t.data<BigInt64Array>(), Number);
  const [B, T] = t.shape;
  return Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
}

// lora-conv1d: rsLoRA on all four Conv1D layers of GPT-2 (fan_in_fan_out), square attn.c_proj included
const METHODS = ['lora', 'lora-conv1d', 'ia3', 'prompt-tuning'] as const;

describe.skipIf(!present).each(METHODS)('%s adapter made by PyTorch in PEFT layout', (method) => {
  const folder = join(ADAPTER_FIXTURES, method);

  it('loads and reproduces the PyTorch logits within 1e-4', async () => {
    const reference = await loadSafetensors(join(folder, 'reference.safetensors'));
    const peft = await loadAdapter(await loadPretrained(GPT2_TINY), folder);
    const { logits } = peft.forward(await rows(reference.input_ids));
    const expected = await reference.logits.data<Float32Array>();
    expect(logits.shape).toEqual(reference.logits.shape);
    expect(maxAbsDiff(await logits.data<Float32Array>(), expected)).toBeLessThan(1e-4);
    // the adapter matters: the base model alone is far from these logits
    peft.disableAdapters();
    const { logits: base } = peft.forward(await rows(reference.input_ids));
    expect(maxAbsDiff(await base.data<Float32Array>(), expected)).toBeGreaterThan(1e-2);
    peft.dispose();
  });

  it.skipIf(!torch)(
    'saves an adapter the PyTorch script reads back with the same logits',
    async () => {
      const reference = await loadSafetensors(join(folder, 'reference.safetensors'));
      const peft = await loadAdapter(await loadPretrained(GPT2_TINY), folder);
      const dir = join(scratch, `${method}-saved`);
      await saveAdapter(peft, dir, { baseModelNameOrPath: 'gpt2-tiny' });
      const { logits } = peft.forward(await rows(reference.input_ids));
      const logitsFile = join(scratch, `${method}-logits.safetensors`);
      await saveSafetensors(logitsFile, { logits });
      const run = spawnSync(
        '/usr/bin/python3',
        [join(ADAPTER_FIXTURES, 'make-adapters.py'), 'check', GPT2_TINY, dir, logitsFile],
        { encoding: 'utf8' },
      );
      expect(run.stderr).toBe('');
      const result = JSON.parse(run.stdout) as { max_abs_diff: number; keys: string[] };
      expect(result.max_abs_diff).toBeLessThan(1e-4);
      const original = JSON.parse(readFileSync(join(folder, 'adapter_config.json'), 'utf8'));
      const saved = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
      expect(saved.peft_type).toBe(original.peft_type);
      const fileKeys = Object.keys(
        await loadSafetensors(join(folder, 'adapter_model.safetensors')),
      );
      expect(result.keys).toEqual(fileKeys.sort());
      peft.dispose();
    },
  );
});

describe.skipIf(!present || !torch)('a merged Conv1D (fan_in_fan_out) LoRA', () => {
  it('mergeAndUnload + savePretrained writes the GPT-2 checkpoint PyTorch reads with Conv1D weights [in, out]', async () => {
    const folder = join(ADAPTER_FIXTURES, 'lora-conv1d');
    const reference = await loadSafetensors(join(folder, 'reference.safetensors'));
    const peft = await loadAdapter(await loadPretrained(GPT2_TINY), folder);
    const merged = peft.mergeAndUnload();
    const { logits } = merged.forward(await rows(reference.input_ids));
    expect(
      maxAbsDiff(await logits.data<Float32Array>(), await reference.logits.data<Float32Array>()),
    ).toBeLessThan(1e-4);
    const dir = join(scratch, 'lora-conv1d-merged');
    await savePretrained(merged, dir);
    const run = spawnSync(
      '/usr/bin/python3',
      [join(ADAPTER_FIXTURES, 'make-adapters.py'), 'check-merged', GPT2_TINY, folder, dir],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as {
      missing: string[];
      unexpected: string[];
      mismatched: string[];
      changed: string[];
      max_weight_diff: number;
      max_logit_diff: number;
    };
    // every key and shape is gpt2-tiny's own, so GPT2LMHeadModel.from_pretrained takes it
    expect([result.missing, result.unexpected, result.mismatched]).toEqual([[], [], []]);
    // exactly the adapted Conv1D weights changed, each to W + scaling * (B @ A)^T
    const layers = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];
    expect(result.changed).toEqual(
      [0, 1].flatMap((i) => layers.map((l) => `transformer.h.${i}.${l}.weight`)).sort(),
    );
    expect(result.max_weight_diff).toBeLessThan(1e-6);
    expect(result.max_logit_diff).toBeLessThan(1e-4);
    merged.dispose();
  });
});

describe.skipIf(!present)('loading an adapter that does not fit', () => {
  it('rejects another rank, naming every mismatched key, and leaves the model as it was', async () => {
    const model: GPT = await loadPretrained(GPT2_TINY);
    const dir = join(scratch, 'wrong-rank');
    const config = JSON.parse(
      readFileSync(join(ADAPTER_FIXTURES, 'lora', 'adapter_config.json'), 'utf8'),
    );
    const { writeFolderAtomic } = await import('@llmkit/utils');
    await writeFolderAtomic(dir, {
      'adapter_config.json': JSON.stringify({ ...config, r: 8 }),
      'adapter_model.safetensors': readFileSync(
        join(ADAPTER_FIXTURES, 'lora', 'adapter_model.safetensors'),
      ),
    });
    const before = await model.forward([[1, 2, 3]]).logits.data<Float32Array>();
    await expect(loadAdapter(model, dir)).rejects.toThrow(
      /shape mismatches: base_model\.model\.transformer\.h\.0\.attn\.c_attn\.lora_A\.weight: \[4,64\] in the file, the model needs \[8,64\]/,
    );
    expect(
      model
        .namedParameters()
        .map(([n]) => n)
        .filter((n) => n.includes('lora')),
    ).toEqual([]);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(Array.from(await model.forward([[1, 2, 3]]).logits.data<Float32Array>())).toEqual(
      Array.from(before),
    );
  });

  it('rejects an adapter whose target modules the model lacks, listing the modules it has', async () => {
    const model: GPT = await loadPretrained(GPT2_TINY);
    const dir = join(scratch, 'llama-targets');
    const config = JSON.parse(
      readFileSync(join(ADAPTER_FIXTURES, 'lora', 'adapter_config.json'), 'utf8'),
    );
    const { writeFolderAtomic } = await import('@llmkit/utils');
    await writeFolderAtomic(dir, {
      'adapter_config.json': JSON.stringify({ ...config, target_modules: ['q_proj', 'v_proj'] }),
      'adapter_model.safetensors': readFileSync(
        join(ADAPTER_FIXTURES, 'lora', 'adapter_model.safetensors'),
      ),
    });
    await expect(loadAdapter(model, dir)).rejects.toThrow(
      /targetModules \["q_proj","v_proj"\] match no module of the model; its Linear, Embedding and QuantizedLinear modules are: wte, wpe, h\.0\.attn\.c_attn/,
    );
    expect(model.namedParameters().some(([n]) => n.includes('lora'))).toBe(false);
  });

  it('rejects a base model name that differs when one is required', async () => {
    const model = await loadPretrained(GPT2_TINY);
    await expect(
      loadAdapter(model, join(ADAPTER_FIXTURES, 'lora'), { baseModelNameOrPath: 'gpt2' }),
    ).rejects.toThrow(/was made for base model "gpt2-tiny", expected "gpt2"/);
  });
});
