import { Generator, manualSeed, memory, noGrad, type Tensor } from '@llmkit/core-tensor';
import { describe, expect, it } from 'vitest';
import { padRows } from '../masks.js';
import { maxAbsDiff } from '../testing/fixtures.js';
import { parametersWithoutGradient, trainSteps } from '../testing/toy.js';
import type { EncoderDecoderConfig } from './config.js';
import { EncoderDecoder, sinusoidalPositions } from './model.js';

const base: EncoderDecoderConfig = {
  vocabSize: 11,
  blockSize: 12,
  nEncoderLayer: 2,
  nDecoderLayer: 2,
  nHead: 2,
  nEmbd: 16,
};
const variants: [string, EncoderDecoderConfig][] = [
  ['sinusoidal positions, shared embeddings', base],
  [
    'learned positions, separate embeddings and head',
    {
      ...base,
      positionEncoding: 'learned',
      shareEmbeddings: false,
      tieWordEmbeddings: false,
      targetVocabSize: 9,
    },
  ],
];

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data<Float32Array>());
}

describe('EncoderDecoder config', () => {
  it('validates before allocating, naming the field', () => {
    const before = memory().tensors;
    expect(() => new EncoderDecoder({ ...base, targetVocabSize: 9 })).toThrow(/targetVocabSize/);
    expect(() => new EncoderDecoder({ ...base, nDecoderLayer: 0 })).toThrow(/nDecoderLayer/);
    expect(() => new EncoderDecoder({ ...base, nEmbd: 15, nHead: 3 })).toThrow(/nEmbd/);
    expect(memory().tensors).toBe(before);
  });

  it('builds the sinusoidal table of the paper', () => {
    const table = sinusoidalPositions(3, 4);
    expect(table[2 * 4 + 0]).toBeCloseTo(Math.sin(2), 6);
    expect(table[2 * 4 + 1]).toBeCloseTo(Math.cos(2), 6);
    expect(table[2 * 4 + 2]).toBeCloseTo(Math.sin(2 / 100), 6);
    expect(table[2 * 4 + 3]).toBeCloseTo(Math.cos(2 / 100), 6);
  });
});

describe.each(variants)('EncoderDecoder, %s', (_, config) => {
  const V = config.targetVocabSize ?? config.vocabSize;

  it('has the expected shapes and a causal decoder', async () => {
    manualSeed(1);
    const model = new EncoderDecoder(config);
    const out = noGrad(() => model.forward([[2, 3, 4, 5]], [[1, 6, 7]], { returnAttention: true }));
    expect(out.logits.shape).toEqual([1, 3, V]);
    expect(out.encoderAttentions![0].shape).toEqual([1, 2, 4, 4]);
    expect(out.decoderAttentions![0].shape).toEqual([1, 2, 3, 3]);
    expect(out.crossAttentions![1].shape).toEqual([1, 2, 3, 4]);
    const a = await values(noGrad(() => model.forward([[2, 3, 4, 5]], [[1, 6, 7]]).logits));
    const changedTarget = await values(
      noGrad(() => model.forward([[2, 3, 4, 5]], [[1, 6, 8]]).logits),
    );
    expect(maxAbsDiff(a.slice(0, 2 * V), changedTarget.slice(0, 2 * V))).toBe(0);
    const changedSource = await values(
      noGrad(() => model.forward([[2, 3, 4, 9]], [[1, 6, 7]]).logits),
    );
    expect(maxAbsDiff(a.slice(0, V), changedSource.slice(0, V))).toBeGreaterThan(1e-5); // sees the whole source
    model.dispose();
  });

  it('masks source and target padding', async () => {
    manualSeed(2);
    const model = new EncoderDecoder(config);
    const alone = await values(noGrad(() => model.forward([[2, 3, 4]], [[1, 5]]).logits));
    const sources = padRows(
      [
        [2, 3, 4],
        [5, 6, 7, 8, 2],
      ],
      'right',
    );
    const targets = padRows(
      [
        [1, 5],
        [1, 6, 7],
      ],
      'right',
    );
    const batch = await values(
      noGrad(
        () =>
          model.forward(sources.ids, targets.ids, {
            sourceMask: sources.mask,
            decoderAttentionMask: targets.mask,
          }).logits,
      ),
    );
    expect(maxAbsDiff(batch.slice(0, 2 * V), alone)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('generates the same ids with and without the cache, batched or alone', async () => {
    manualSeed(3);
    const model = new EncoderDecoder(config);
    const sources = [
      [2, 3, 4, 5],
      [6, 7],
      [8, 2, 3],
    ];
    const options = { decoderStartTokenId: 1, maxNewTokens: 5 };
    const cached = await model.generate(sources, options);
    const uncached = await model.generate(sources, { ...options, useCache: false });
    const alone = [];
    for (const s of sources) alone.push((await model.generate([s], options))[0]);
    expect(cached).toEqual(uncached);
    expect(cached).toEqual(alone);
    const beams = await model.generate(sources, { ...options, numBeams: 3 });
    const beamsUncached = await model.generate(sources, {
      ...options,
      numBeams: 3,
      useCache: false,
    });
    expect(beams).toEqual(beamsUncached);
    model.dispose();
  });

  it('sends a gradient to every parameter', async () => {
    manualSeed(4);
    const model = new EncoderDecoder(config);
    const { loss } = model.forward(
      [
        [2, 3, 4],
        [5, 6, 0],
      ],
      [
        [1, 7, 8],
        [1, 6, 5],
      ],
      {
        sourceMask: [
          [1, 1, 1],
          [1, 1, 0],
        ],
        labels: [
          [7, 8, 2],
          [6, 5, -100],
        ],
      },
    );
    expect(await parametersWithoutGradient(model, loss!)).toEqual([]);
    model.dispose();
  });
});

const STEPS = 200;
const LR = 5e-3;

describe('EncoderDecoder toy task', () => {
  it('learns to copy its source', async () => {
    manualSeed(5);
    const model = new EncoderDecoder({
      ...base,
      vocabSize: 8,
      nEmbd: 32,
      nEncoderLayer: 1,
      nDecoderLayer: 1,
      positionEncoding: 'learned',
    });
    const generator = new Generator(5);
    const sample = (n: number) =>
      Array.from({ length: n }, () => Array.from({ length: 3 }, () => generator.nextInt(2, 8)));
    const final = trainSteps(model, STEPS, LR, () => {
      const sources = sample(16);
      const targets = sources;
      return model.forward(
        sources,
        targets.map((t) => [1, ...t.slice(0, -1)]),
        { labels: targets },
      ).loss!;
    });
    expect(final).toBeLessThan(0.05);
    const test = sample(4);
    const out = await model.generate(test, { decoderStartTokenId: 1, maxNewTokens: 3 });
    expect(out.map((r) => r.slice(1))).toEqual(test);
    model.dispose();
  });
});
