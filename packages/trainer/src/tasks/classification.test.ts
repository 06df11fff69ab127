import { Generator, manualSeed } from '@llmkit/core-tensor';
import { EncoderForSequenceClassification } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { Trainer } from '../trainer.js';
import {
  classificationAccuracy,
  evaluateClassifier,
  type LabelledSequence,
  LabelledSequences,
  padClassificationBatch,
  parseLabelledLines,
  sequenceClassificationLoss,
} from './classification.js';
import { holdOut } from './epochs.js';

// A separable task: label 1 when most tokens come from {2..5}, 0 when most come from {6..9}.
function makeTask(count: number, seed: number): LabelledSequence[] {
  const g = new Generator(seed);
  return Array.from({ length: count }, () => {
    const label = g.nextInt(0, 2);
    const length = g.nextInt(3, 8);
    const ids = Array.from({ length }, () => {
      const majority = g.nextFloat() < 0.8;
      return (label === 1) === majority ? g.nextInt(2, 6) : g.nextInt(6, 10);
    });
    return { ids, label };
  });
}

const config = { vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 };

describe('sequence classification', () => {
  it('learns a small separable task to high held-out accuracy', async () => {
    manualSeed(3);
    const model = new EncoderForSequenceClassification(config, 2);
    const { train, validation } = holdOut(makeTask(400, 1), 0.2, 5);
    const data = new LabelledSequences({ train, validation }, { batchSize: 16, padTokenId: 0 });
    const before = await evaluateClassifier(model, validation, { padTokenId: 0 });
    const trainer = new Trainer({
      model,
      loss: sequenceClassificationLoss,
      metrics: classificationAccuracy,
      data,
      config: {
        maxSteps: 80,
        evalInterval: 80,
        evalBatches: 5,
        schedule: { kind: 'constant', learningRate: 1e-2 },
      },
    });
    const result = await trainer.train();
    const after = await evaluateClassifier(model, validation, { padTokenId: 0 });
    expect(after.count).toBe(80);
    expect(after.loss).toBeLessThan(before.loss * 0.6);
    expect(after.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(after.predictions.filter((p, i) => p === validation[i].label).length).toBe(
      after.correct,
    );
    // the Trainer's metric hook sums { correct, count } over its evaluation batches
    const evaluation = await trainer.evaluate(5);
    expect(evaluation.metrics.count).toBe(80);
    expect(evaluation.metrics.correct / 80).toBeGreaterThanOrEqual(0.85);
    expect(result.validationLoss).toBeLessThan(before.loss);
  });

  it('pads with a mask, so padding does not change a prediction', async () => {
    manualSeed(4);
    const model = new EncoderForSequenceClassification(config, 3);
    const short = { ids: [4, 5], label: 1 };
    const long = { ids: [6, 7, 8, 9, 2, 3], label: 2 };
    const batch = padClassificationBatch([short, long], { padTokenId: 0 });
    expect(batch.inputIds[0]).toEqual([4, 5, 0, 0, 0, 0]);
    expect(batch.attentionMask[0]).toEqual([1, 1, 0, 0, 0, 0]);
    expect(batch.labels).toEqual([1, 2]);
    const together = await evaluateClassifier(model, [short, long], { padTokenId: 0 });
    const alone = await evaluateClassifier(model, [short], { padTokenId: 0 });
    model.eval();
    const a = await model
      .forward(batch.inputIds, { attentionMask: batch.attentionMask })
      .logits.data();
    const b = await model.forward([short.ids]).logits.data();
    for (let c = 0; c < 3; c++) expect(a[c]).toBeCloseTo(b[c], 5);
    expect(together.predictions[0]).toBe(alone.predictions[0]);
    expect(padClassificationBatch([long], { padTokenId: 0, maxLength: 4 }).inputIds).toEqual([
      [6, 7, 8, 9],
    ]);
  });

  it('resumes its shuffled order exactly', () => {
    const examples = makeTask(13, 2);
    const make = () =>
      new LabelledSequences(
        { train: examples, validation: examples.slice(0, 3) },
        { batchSize: 4, padTokenId: 0, seed: 9 },
      );
    const a = make();
    for (let i = 0; i < 5; i++) a.next('train');
    const b = make();
    b.restore(JSON.parse(JSON.stringify(a.state())));
    expect(b.next('train')).toEqual(a.next('train'));
    expect(() => b.restore({ seed: 1 })).toThrow(/LabelledSequences\.restore: expected/);
  });

  it('reads sentence<TAB>label lines and names a bad line', () => {
    expect(
      parseLabelledLines('Good case, Excellent value.\t1\n\nCrust is not good.  \t0\n'),
    ).toEqual([
      { text: 'Good case, Excellent value.', label: 1 },
      { text: 'Crust is not good.', label: 0 },
    ]);
    expect(() => parseLabelledLines('fine\t1\nno label here\n', 'reviews.txt')).toThrow(
      /reviews\.txt line 2: expected "sentence<TAB>label"/,
    );
    expect(() => parseLabelledLines('negative\t-1\n')).toThrow(/line 1/);
  });

  it('holds out a seeded fraction', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const { train, validation } = holdOut(items, 0.1, 1);
    expect(validation.length).toBe(5);
    expect([...train, ...validation].sort((x, y) => x - y)).toEqual(items);
    expect(holdOut(items, 0.1, 1)).toEqual({ train, validation });
    expect(holdOut(items, 0.1, 2).validation).not.toEqual(validation);
    expect(() => holdOut(items, 1)).toThrow(/validationFraction must be in \(0, 1\), got 1/);
  });
});
