import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, tidy } from '@llmkit/core-tensor';
import { afterAll, describe, expect, it } from 'vitest';
import type { TextTokenizer } from '../sequences.js';
import {
  classifierAccuracy,
  type LabelledText,
  MeanPooledClassifier,
  trainClassifier,
} from './classifier.js';
import { loadClassifier, saveClassifier } from './classifier-files.js';
import { classifierReward } from './trainer.js';
import { CompactVocabulary, PAD_ID, UNKNOWN_ID } from './vocabulary.js';

// A word-level base tokenizer with a large, sparse id space (as GPT-2's is for a small corpus).
const WORDS = [
  'the',
  'food',
  'was',
  'film',
  'is',
  'service',
  'good',
  'great',
  'lovely',
  'fine',
  'bad',
  'awful',
  'poor',
  'dull',
  'very',
  'really',
  'and',
  'quite',
  'morrow',
  'lord',
];
const base: TextTokenizer = {
  encode: (text) =>
    text
      .split(' ')
      .filter(Boolean)
      .map((w) => {
        const i = WORDS.indexOf(w);
        if (i < 0) throw new Error(`base tokenizer: unknown word ${JSON.stringify(w)}`);
        return 1000 + 37 * i;
      }),
  decode: (ids) =>
    Array.from(ids, (id) => ` ${WORDS[(id - 1000) / 37]}`)
      .join('')
      .trim(),
};

// positive texts hold a positive word, negative texts a negative one, in neutral filler
const POSITIVE = ['good', 'great', 'lovely', 'fine'];
const NEGATIVE = ['bad', 'awful', 'poor', 'dull'];
function examples(count: number, offset: number): LabelledText[] {
  const subjects = ['the food', 'the film', 'the service'];
  const verbs = ['was', 'is'];
  const adverbs = ['', 'very ', 'really ', 'quite '];
  return Array.from({ length: count }, (_, i) => {
    const k = i + offset;
    const label = k % 2;
    const word = (label ? POSITIVE : NEGATIVE)[(k >> 1) % 4];
    return {
      text: `${subjects[k % 3]} ${verbs[(k >> 2) % 2]} ${adverbs[(k >> 3) % 4]}${word}`,
      label,
    };
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('CompactVocabulary', () => {
  it('maps seen base ids to 2.. by first appearance, others to [UNK], lower-casing first', () => {
    const vocabulary = CompactVocabulary.fromTexts(base, ['the food was good', 'the film was bad']);
    expect(vocabulary.vocabSize).toBe(2 + 6);
    expect(vocabulary.encode('the food was good')).toEqual([2, 3, 4, 5]);
    expect(vocabulary.encode('THE FILM was BAD')).toEqual([2, 6, 4, 7]);
    expect(vocabulary.encode('good morrow lord')).toEqual([5, UNKNOWN_ID, UNKNOWN_ID]);
    expect(vocabulary.decode([2, 6, PAD_ID, UNKNOWN_ID, 7])).toBe('the film\uFFFDbad');
    expect(() => vocabulary.decode([8])).toThrow(/id 8 is outside \[0, 8\)/);
  });

  it('keeps only tokens seen minCount times, and round-trips through JSON', () => {
    const vocabulary = CompactVocabulary.fromTexts(base, ['the food', 'the film', 'food'], {
      minCount: 2,
    });
    expect(vocabulary.vocabSize).toBe(4); // [PAD], [UNK], the, food
    expect(vocabulary.encode('the film')).toEqual([2, UNKNOWN_ID]);
    const again = CompactVocabulary.fromJSON(base, JSON.parse(JSON.stringify(vocabulary)));
    expect(again.encode('food the film')).toEqual(vocabulary.encode('food the film'));
    expect(() => CompactVocabulary.fromJSON(base, { type: 'x' } as never)).toThrow(
      /expected \{ type: 'compact-vocabulary'/,
    );
    expect(() => new CompactVocabulary(base, [5, 5])).toThrow(/base id 5 appears twice/);
  });
});

describe('MeanPooledClassifier', () => {
  const config = { vocabSize: 24, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, numLabels: 2 };

  it('ignores padding: a padded row scores as the same row alone', () => {
    manualSeed(3);
    const model = new MeanPooledClassifier(config).eval();
    const [alone, padded] = tidy(() =>
      noGrad(() => [
        Array.from(model.forward([[5, 6, 7]]).logits.dataSync() as Float32Array),
        Array.from(
          model
            .forward(
              [
                [5, 6, 7, 0, 0],
                [8, 9, 10, 11, 12],
              ],
              {
                attentionMask: [
                  [1, 1, 1, 0, 0],
                  [1, 1, 1, 1, 1],
                ],
              },
            )
            .logits.dataSync() as Float32Array,
        ).slice(0, 2),
      ]),
    );
    for (let i = 0; i < 2; i++) expect(padded[i]).toBeCloseTo(alone[i], 5);
  });

  it('rejects bad labels and configs with errors naming them', () => {
    manualSeed(0);
    const model = new MeanPooledClassifier(config);
    expect(() => model.forward([[1, 2]], { labels: [2] })).toThrow(/label 0 is 2/);
    expect(() => new MeanPooledClassifier({ ...config, numLabels: 0 })).toThrow(/numLabels/);
  });
});

describe('trainClassifier', () => {
  it('learns a held-out sentiment rule, and saves and loads the same model', async () => {
    const train = examples(96, 0);
    const heldOut = examples(32, 1000);
    const vocabulary = CompactVocabulary.fromTexts(
      base,
      train.map((e) => e.text),
    );
    manualSeed(1);
    const model = new MeanPooledClassifier({
      vocabSize: vocabulary.vocabSize,
      blockSize: 16,
      nLayer: 1,
      nHead: 2,
      nEmbd: 16,
      dropout: 0.1,
      numLabels: 2,
    });
    const before = classifierAccuracy(model, vocabulary, heldOut);
    const epochs: number[] = [];
    const { history, evalAccuracy } = await trainClassifier({
      model,
      tokenizer: vocabulary,
      examples: train,
      evalExamples: heldOut,
      epochs: 12,
      batchSize: 16,
      lr: 3e-3,
      onEpoch: (m) => epochs.push(m.epoch),
    });
    expect(epochs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(history.at(-1)!.loss).toBeLessThan(history[0].loss);
    expect(before).toBeLessThan(0.8);
    expect(evalAccuracy).toBe(1);
    expect(model.training).toBe(false);

    // as a reward: positive text scores above negative text, unknown words do not break it
    const reward = classifierReward({ model, tokenizer: vocabulary, positiveLabel: 1 });
    const good = await reward('', 'the lord was good');
    const bad = await reward('', 'the lord was awful');
    expect(good).toBeGreaterThan(0.5);
    expect(bad).toBeLessThan(0.5);

    const dir = mkdtempSync(join(tmpdir(), 'rlhf-classifier-'));
    dirs.push(dir);
    await saveClassifier(join(dir, 'sentiment'), model, vocabulary, { accuracy: evalAccuracy });
    const loaded = await loadClassifier(join(dir, 'sentiment'), base);
    expect(loaded.metadata).toEqual({ accuracy: 1 });
    expect(loaded.vocabulary.encode('the food was good')).toEqual(
      vocabulary.encode('the food was good'),
    );
    const again = classifierReward({ model: loaded.model, tokenizer: loaded.vocabulary });
    expect(await again('', 'the lord was good')).toBeCloseTo(good, 6);
  });

  it('checks its data before any work', async () => {
    manualSeed(0);
    const vocabulary = CompactVocabulary.fromTexts(base, ['the food']);
    const model = new MeanPooledClassifier({
      vocabSize: vocabulary.vocabSize,
      blockSize: 8,
      nLayer: 1,
      nHead: 2,
      nEmbd: 8,
      numLabels: 2,
    });
    const run = (examples: LabelledText[], extra = {}) =>
      trainClassifier({ model, tokenizer: vocabulary, examples, epochs: 1, ...extra });
    await expect(run([])).rejects.toThrow(/no examples/);
    await expect(run([{ text: 'the food', label: 3 }])).rejects.toThrow(
      /example 0: label is 3; expected a class id in \[0, 2\)/,
    );
    await expect(run([{ text: '', label: 0 }])).rejects.toThrow(/example 0: text is ""/);
    await expect(run([{ text: 'the food', label: 0 }], { tokenDropout: 1 })).rejects.toThrow(
      /tokenDropout must be in \[0, 1\), got 1/,
    );
    await expect(loadClassifier(join(tmpdir(), 'no-such-classifier-dir'), base)).rejects.toThrow();
  });
});
