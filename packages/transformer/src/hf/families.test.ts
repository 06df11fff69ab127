// Llama, Qwen2, Qwen3 and BERT checkpoints in Hugging Face's exact key names (random tiny
// models made by scripts/make-hf-families.py, logits from a plain PyTorch forward written from
// each architecture): logits within 1e-4, greedy ids exact with and without the KV cache; a
// bfloat16 checkpoint and one sharded in two files; savePretrained writes the layout back.
import { mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EncoderForSequenceClassification } from '../encoder/heads.js';
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
