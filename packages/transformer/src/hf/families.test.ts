// Llama, Qwen2, Qwen3 and BERT checkpoints in Hugging Face's exact key names (random tiny
// models made by scripts/make-hf-families.py, logits from a plain PyTorch forward written from
// each architecture): logits within 1e-4, greedy ids exact with and without the KV cache; a
// bfloat16 checkpoint and one sharded in two files; savePretrained writes the layout back.
import { mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DTYPE_BYTES, memory, noGrad } from '@llmkit/core-tensor';
import { describe, expect, it } from 'vitest';
import { EncoderForSequenceClassification } from '../encoder/heads.js';
import type { GPT } from '../gpt/model.js';
import { maxAbsDiff, numbers } from '../testing/fixtures.js';
import { loadPretrained, loadPretrainedEncoder } from './load.js';
import { savePretrained } from './save.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/hf-families/', import.meta.url));
const reference = async (name: string) =>
  JSON.parse(await readFile(join(FIXTURES, name, 'reference.json'), 'utf8'));

describe.each(['llama', 'qwen2', 'qwen3', 'llama-bf16', 'llama-sharded'])(
  '%s checkpoint',
  (name) => {
    it('logits match PyTorch within 1e-4; greedy ids exact with and without the cache', async () => {
      const ref = await reference(name);
      const model = await loadPretrained(join(FIXTURES, name));
      const { logits } = model.forward(ref.ids);
      expect(maxAbsDiff(await numbers(logits), ref.logits.flat(2))).toBeLessThan(1e-4);
      const prompts = ref.ids.map((row: number[]) => row.slice(0, 4));
      for (const useCache of [true, false]) {
        const rows = await model.generate(prompts, { maxNewTokens: 12, useCache });
        expect(rows.map((row) => row.slice(4))).toEqual(ref.greedy);
      }
      model.dispose();
    });
  },
);

describe('family details', () => {
  it('Qwen3 has per-head q/k norms and a head size apart from hidden / heads; Qwen2 q/k/v biases only', async () => {
    const qwen3 = await loadPretrained(join(FIXTURES, 'qwen3'));
    expect(qwen3.config.headSize).toBe(16);
    expect(qwen3.config.qkNorm).toBe(true);
    const qwen2 = await loadPretrained(join(FIXTURES, 'qwen2'));
    expect(qwen2.config.qkvBias).toBe(true);
    expect(qwen2.config.bias).toBe(false);
    expect(qwen2.config.tieWordEmbeddings).toBe(true);
    qwen3.dispose();
    qwen2.dispose();
  });

  it("keeps a bf16 file's matrices in bf16 by default, with float32 logits equal within 1e-4", async () => {
    const dir = join(FIXTURES, 'llama-bf16');
    const kept = await loadPretrained(dir);
    const state = kept.stateDict();
    expect(state['h.0.attn.c_attn.weight'].dtype).toBe('bfloat16');
    expect(state['wte.weight'].dtype).toBe('bfloat16');
    expect(state['h.0.ln_1.weight'].dtype).toBe('float32');
    // what the backend holds is the weights in their loaded dtypes plus the RoPE tables: no copy
    const weightBytes = Object.values(state).reduce((n, t) => n + t.size * DTYPE_BYTES[t.dtype], 0);
    const float = await loadPretrained(dir, { dtype: 'float32' });
    expect(float.stateDict()['h.0.attn.c_attn.weight'].dtype).toBe('float32');
    const ref = await reference('llama-bf16');
    const logitsOf = async (model: GPT) => {
      const { logits } = noGrad(() => model.forward(ref.ids));
      const values = await numbers(logits);
      logits.dispose();
      return values;
    };
    const a = await logitsOf(kept);
    const b = await logitsOf(float);
    const scale = Math.max(...b.map(Math.abs));
    expect(maxAbsDiff(a, b) / scale).toBeLessThan(1e-4);
    float.dispose();
    const before = memory().bytes;
    kept.dispose();
    expect(before - memory().bytes).toBeGreaterThanOrEqual(weightBytes);
    expect(before - memory().bytes).toBeLessThan(weightBytes * 1.3);
  });

  it("stores a float32 file's matrices in bfloat16 when asked; rejects a dtype it cannot take", async () => {
    const model = await loadPretrained(join(FIXTURES, 'llama'), { dtype: 'bfloat16' });
    expect(model.stateDict()['h.0.mlp.c_fc.weight'].dtype).toBe('bfloat16');
    const ref = await reference('llama');
    const logits = await numbers(model.forward(ref.ids).logits);
    expect(maxAbsDiff(logits, ref.logits.flat(2))).toBeLessThan(0.05); // bf16 rounding of each weight
    model.dispose();
    const before = memory().tensors;
    await expect(
      loadPretrained(join(FIXTURES, 'llama'), { dtype: 'int8' as never }),
    ).rejects.toThrow(/dtype "int8" is not one of auto, float32, bfloat16, float16/);
    expect(memory().tensors).toBe(before);
  });

  it('a shard that ends early fails naming it, with nothing left in memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmkit-cut-'));
    await cp(join(FIXTURES, 'llama-sharded'), dir, { recursive: true });
    const shard = join(dir, 'model-00002-of-00002.safetensors');
    const bytes = await readFile(shard);
    await writeFile(shard, bytes.subarray(0, bytes.length - 100));
    const before = memory().tensors;
    await expect(loadPretrained(dir)).rejects.toThrow(
      /model-00002-of-00002\.safetensors.*past the \d+ data bytes of the file/,
    );
    expect(memory().tensors).toBe(before);
    await rm(dir, { recursive: true });
  });

  it('reports progress per shard', async () => {
    const seen: string[] = [];
    const model = await loadPretrained(join(FIXTURES, 'llama-sharded'), {
      onProgress: (p) => seen.push(`${p.filesDone}/${p.filesTotal}`),
    });
    expect(seen).toEqual(['1/2', '2/2']);
    model.dispose();
  });

  it('savePretrained writes the Llama / Qwen layout back and it reloads to the same logits', async () => {
    for (const name of ['llama', 'qwen3']) {
      const ref = await reference(name);
      const model = await loadPretrained(join(FIXTURES, name));
      const dir = await mkdtemp(join(tmpdir(), `llmkit-${name}-`));
      await savePretrained(model, dir);
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      expect(config.model_type).toBe(name);
      const again = await loadPretrained(dir);
      const { logits } = again.forward(ref.ids);
      expect(maxAbsDiff(await numbers(logits), ref.logits.flat(2))).toBeLessThan(1e-4);
      model.dispose();
      again.dispose();
      await rm(dir, { recursive: true });
    }
  });

  it('BERT for sequence classification: logits and hidden states match PyTorch', async () => {
    const ref = await reference('bert');
    const model = await loadPretrainedEncoder(join(FIXTURES, 'bert'));
    expect(model).toBeInstanceOf(EncoderForSequenceClassification);
    const classifier = model as EncoderForSequenceClassification;
    expect(classifier.numLabels).toBe(3);
    const { logits } = classifier.forward(ref.ids, {
      attentionMask: ref.attentionMask,
      tokenTypeIds: ref.tokenTypeIds,
    });
    expect(maxAbsDiff(await numbers(logits), ref.logits.flat())).toBeLessThan(1e-4);
    const { lastHiddenState } = classifier.bert.forward(ref.ids, {
      attentionMask: ref.attentionMask,
      tokenTypeIds: ref.tokenTypeIds,
    });
    // padded positions differ by design (PyTorch still computes them); compare real tokens
    const hidden = await numbers(lastHiddenState);
    const C = 32;
    const T = ref.ids[0].length;
    let worst = 0;
    for (const [b, row] of (ref.attentionMask as number[][]).entries()) {
      for (const [t, m] of row.entries()) {
        if (!m) continue;
        for (let c = 0; c < C; c++)
          worst = Math.max(
            worst,
            Math.abs(hidden[(b * T + t) * C + c] - ref.lastHiddenState[b][t][c]),
          );
      }
    }
    expect(worst).toBeLessThan(1e-4);
    classifier.dispose();
  });
});

describe('bad folders get one clear error', () => {
  it('names an unknown model_type, a missing tensor, a shape mismatch, an unsupported feature', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmkit-bad-'));
    await cp(join(FIXTURES, 'qwen2'), dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'falcon' }));
    await expect(loadPretrained(dir)).rejects.toThrow(
      /model_type "falcon" .* is not supported; supported: gpt2, llama, mistral, qwen2, qwen3/,
    );
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ ...config, model_type: 'mistral', sliding_window: 16 }),
    );
    await expect(loadPretrained(dir)).rejects.toThrow(
      /sliding_window 16 is shorter than the context 64/,
    );
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ ...config, rope_scaling: { rope_type: 'yarn', factor: 4 } }),
    );
    await expect(loadPretrained(dir)).rejects.toThrow(/rope_scaling type "yarn" is not supported/);
    // qwen2 weights under a qwen3 config: no q_norm / k_norm, and the q/k/v biases are unexpected
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'qwen3' }));
    await expect(loadPretrained(dir)).rejects.toThrow(
      /missing keys: model\.layers\.0\.self_attn\.q_norm\.weight.*unexpected keys: model\.layers\.0\.self_attn\.q_proj\.bias/,
    );
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_size: 48 }));
    await expect(loadPretrained(dir)).rejects.toThrow(
      /shape mismatches: model\.embed_tokens\.weight: \[61,32\] in the file, expected \[61,48\]/,
    );
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'bert' }));
    await expect(loadPretrained(dir)).rejects.toThrow(/load it with loadPretrainedEncoder/);
    await rm(dir, { recursive: true });
  });
});
