import { Generator, manualSeed, memory, noGrad, type Tensor } from '@llmkit/core-tensor';
import { LlmkitError } from '@llmkit/utils';
import { describe, expect, it } from 'vitest';
import { padRows } from '../masks.js';
import { maxAbsDiff } from '../testing/fixtures.js';
import { parametersWithoutGradient, trainSteps } from '../testing/toy.js';
import type { EncoderConfig } from './config.js';
import {
  EncoderForMaskedLM,
  EncoderForSequenceClassification,
  meanPooledEmbeddings,
} from './heads.js';
import { Encoder } from './model.js';

const config: EncoderConfig = { vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16 };

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data<Float32Array>());
}

describe('Encoder', () => {
  it('validates its config before allocating, naming the field', () => {
    const before = memory().tensors;
    expect(() => new Encoder({ ...config, nHead: 3 })).toThrow(/nEmbd/);
    expect(() => new Encoder({ ...config, typeVocabSize: -1 })).toThrow(/typeVocabSize/);
    expect(() => new Encoder({ ...config, blockSize: 0 })).toThrow(LlmkitError);
    expect(() => new Encoder({ ...config, blockSize: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(memory().tensors).toBe(before);
  });

  it('uses Hugging Face BERT parameter names', () => {
    manualSeed(0);
    const encoder = new Encoder({ ...config, nLayer: 1 });
    expect(Object.keys(encoder.stateDict())).toEqual(
      expect.arrayContaining([
        'embeddings.word_embeddings.weight',
        'embeddings.position_embeddings.weight',
        'embeddings.token_type_embeddings.weight',
        'embeddings.LayerNorm.weight',
        'encoder.layer.0.attention.self.query.weight',
        'encoder.layer.0.attention.output.dense.bias',
        'encoder.layer.0.attention.output.LayerNorm.weight',
        'encoder.layer.0.intermediate.dense.weight',
        'encoder.layer.0.output.dense.weight',
        'encoder.layer.0.output.LayerNorm.bias',
        'pooler.dense.weight',
      ]),
    );
    encoder.dispose();
  });

  it('has the expected shapes and attends in both directions', async () => {
    manualSeed(1);
    const encoder = new Encoder(config);
    const out = noGrad(() =>
      encoder.forward(
        [
          [1, 2, 3, 4],
          [4, 3, 2, 1],
        ],
        { returnAttention: true },
      ),
    );
    expect(out.lastHiddenState.shape).toEqual([2, 4, 16]);
    expect(out.pooledOutput!.shape).toEqual([2, 16]);
    expect(out.attentions![1].shape).toEqual([2, 2, 4, 4]);
    const w = await values(out.attentions![0]);
    expect(w[3]).toBeGreaterThan(0); // the first query sees the last key
    const changed = noGrad(() =>
      encoder.forward([
        [1, 2, 3, 9],
        [4, 3, 2, 1],
      ]),
    );
    const a = await values(out.lastHiddenState);
    const b = await values(changed.lastHiddenState);
    expect(maxAbsDiff(a.slice(0, 16), b.slice(0, 16))).toBeGreaterThan(1e-4); // not causal
    encoder.dispose();
  });

  it('ignores padding, in hidden states and mean-pooled embeddings', async () => {
    manualSeed(2);
    const encoder = new Encoder(config);
    const alone = noGrad(() => encoder.forward([[5, 6, 7]]));
    const { ids, mask } = padRows(
      [
        [5, 6, 7],
        [1, 2, 3, 4, 5],
      ],
      'right',
    );
    const padded = noGrad(() => encoder.forward(ids, { attentionMask: mask }));
    const a = await values(alone.lastHiddenState);
    const p = await values(padded.lastHiddenState);
    expect(maxAbsDiff(p.slice(0, 3 * 16), a)).toBeLessThan(1e-5);
    const e1 = await values(
      noGrad(() => meanPooledEmbeddings(encoder, [[5, 6, 7]], { normalize: true })),
    );
    const e2 = await values(
      noGrad(() => meanPooledEmbeddings(encoder, ids, { attentionMask: mask, normalize: true })),
    );
    expect(maxAbsDiff(e2.slice(0, 16), e1)).toBeLessThan(1e-5);
    expect(Math.hypot(...e1)).toBeCloseTo(1, 5);
    // the plain mean, checked by hand
    const mean = Array.from({ length: 16 }, (_, c) => (a[c] + a[16 + c] + a[32 + c]) / 3);
    const raw = await values(noGrad(() => meanPooledEmbeddings(encoder, [[5, 6, 7]])));
    expect(maxAbsDiff(raw, mean)).toBeLessThan(1e-5);
    encoder.dispose();
  });

  it('uses token types when given', async () => {
    manualSeed(3);
    const encoder = new Encoder(config);
    const a = await values(noGrad(() => encoder.forward([[1, 2, 3]]).lastHiddenState));
    const b = await values(
      noGrad(() => encoder.forward([[1, 2, 3]], { tokenTypeIds: [[0, 1, 1]] }).lastHiddenState),
    );
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    expect(() => encoder.forward([[1, 2, 3]], { tokenTypeIds: [[0, 1]] })).toThrow(
      /expected \[1, 3\]/,
    );
    expect(() => encoder.forward([[1, 2, 3]], { tokenTypeIds: [[0, 1]] })).toThrow(
      expect.objectContaining({ name: 'TransformerError', code: 'invalid_data' }),
    );
    const none = new Encoder({ ...config, typeVocabSize: 0 });
    expect(() => none.forward([[1]], { tokenTypeIds: [[0]] })).toThrow(/typeVocabSize/);
    encoder.dispose();
    none.dispose();
  });

  it('sends a gradient to every parameter of the masked-LM and classification heads', async () => {
    manualSeed(4);
    const mlm = new EncoderForMaskedLM(config);
    const { loss } = mlm.forward([[1, 2, 3, 0]], {
      attentionMask: [[1, 1, 1, 0]],
      tokenTypeIds: [[0, 0, 1, 1]],
      labels: [[-100, 5, 6, -100]],
    });
    expect(await parametersWithoutGradient(mlm, loss!)).toEqual([]);
    mlm.dispose();
    const classifier = new EncoderForSequenceClassification(config, 3);
    const out = classifier.forward(
      [
        [1, 2, 3],
        [3, 2, 1],
      ],
      {
        tokenTypeIds: [
          [0, 1, 1],
          [0, 0, 1],
        ],
        labels: [0, 2],
      },
    );
    expect(out.logits.shape).toEqual([2, 3]);
    expect(await parametersWithoutGradient(classifier, out.loss!)).toEqual([]);
    classifier.dispose();
  });

  it('learns a toy classification over padded batches (does the sequence contain token 1?)', async () => {
    manualSeed(5);
    const classifier = new EncoderForSequenceClassification(
      { ...config, nEmbd: 32, vocabSize: 8 },
      2,
    );
    const generator = new Generator(5);
    const batch = () => {
      const rows = Array.from({ length: 16 }, () => {
        const length = generator.nextInt(2, 7);
        return Array.from({ length }, () => generator.nextInt(1, 8));
      });
      const labels = rows.map((r) => (r.includes(1) ? 1 : 0));
      return { ...padRows(rows, 'right'), labels };
    };
    const final = trainSteps(classifier, 120, 5e-3, () => {
      const { ids, mask, labels } = batch();
      return classifier.forward(ids, { attentionMask: mask, labels }).loss!;
    });
    classifier.eval();
    const { ids, mask, labels } = batch();
    const test = noGrad(() => classifier.forward(ids, { attentionMask: mask, labels }));
    expect(final).toBeLessThan(0.1);
    expect(test.loss!.item()).toBeLessThan(0.1);
    classifier.dispose();
  });
});
