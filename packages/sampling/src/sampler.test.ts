import { LlmkitError } from '@llmkit/utils';
import { describe, expect, it } from 'vitest';
import type { SamplingError } from './errors.js';
import { createSampler } from './sampler.js';
import { chiSquareTest, fixtureLogits, loadFixtures } from './test-utils.js';

const fixtures = new Map(loadFixtures().map((fixture) => [fixture.name, fixture]));
const DRAWS = 20_000;
const ALPHA = 1e-3; // a fixed seed makes each test deterministic; alpha bounds how unlucky it may be

function drawCounts(
  name: string,
  config: object,
  seed: number,
  draws = DRAWS,
): Map<number, number> {
  const fixture = fixtures.get(name)!;
  const sampler = createSampler({ ...fixture.config, ...config, doSample: true, seed });
  const logits = fixtureLogits(fixture);
  const counts = new Map<number, number>();
  for (let i = 0; i < draws; i++) {
    const token = sampler.sample(logits, fixture.previous);
    counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return counts;
}

function expected(name: string): Map<number, number> {
  return new Map(fixtures.get(name)!.kept.map(([id, , probability]) => [id, probability]));
}

describe('seeded draws follow the exact warped distribution (chi-square, alpha 0.001)', () => {
  const cases: [string, string][] = [
    ['plain softmax', 'repetition 1.3'],
    ['temperature 0.7', 'random 0.0'],
    ['temperature 1.5', 'random 1.1'],
    ['top-k 5', 'random 2.0'],
    ['top-p 0.9', 'random 4.0'],
    ['top-p 0.9, 1,500 tokens (bucketed)', 'random 4.2'],
    ['top-p 0.9, 2,000 near-equal tokens', 'top-p flat'],
    ['min-p 0.1', 'random 7.0'],
    ['typical-p 0.9', 'random 9.0'],
    ['typical-p 0.9, 1,500 tokens', 'random 9.2'],
    ['temperature + top-k + top-p', 'random 11.0'],
    ['all five warpers', 'random 12.0'],
    ['processors and warpers together', 'all'],
  ];
  it.each(cases)('%s', (_, name) => {
    // Fewer draws on the large vocabularies keep the suite fast; pooling keeps the bins valid.
    const draws = fixtures.get(name)!.logits.length > 1000 ? 6000 : DRAWS;
    const result = chiSquareTest(drawCounts(name, {}, 2024, draws), expected(name), draws);
    expect(result.impossible).toBe(0);
    expect(result.pValue).toBeGreaterThan(ALPHA);
  });

  it('detects draws from the wrong distribution (the test has power)', () => {
    // Draw without top-p, test against the top-p distribution: tokens outside the nucleus appear.
    const wrong = drawCounts('random 4.2', { topP: 1 }, 2024, 2000);
    const result = chiSquareTest(wrong, expected('random 4.2'), 2000);
    expect(result.impossible).toBeGreaterThan(0);
    // Same support, slightly wrong weights: temperature 1.1 instead of 1.
    const tilted = drawCounts('random 4.0', { temperature: 1.1 }, 2024);
    expect(chiSquareTest(tilted, expected('random 4.0'), DRAWS).pValue).toBeLessThan(ALPHA);
  });

  it('is reproducible: the same seed gives the same draws, another seed others', () => {
    const a = drawCounts('random 4.2', {}, 99, 1000);
    expect(drawCounts('random 4.2', {}, 99, 1000)).toEqual(a);
    expect(drawCounts('random 4.2', {}, 100, 1000)).not.toEqual(a);
  });
});

describe('greedy decoding', () => {
  it('is the default and takes the first highest logit', () => {
    const sampler = createSampler();
    expect(sampler.greedy).toBe(true);
    expect(sampler.sample(Float32Array.of(0, 3, 1, 3))).toBe(1);
  });

  it('applies processors but not warpers', () => {
    const sampler = createSampler({ repetitionPenalty: 10 });
    expect(sampler.sample(Float32Array.of(1, 3, 2), [1])).toBe(2);
  });

  it('treats temperature 0 as greedy, with or without doSample', () => {
    const logits = Float32Array.of(0.5, 0.1, 0.9, 0.2);
    for (const doSample of [true, false]) {
      const sampler = createSampler({ doSample, temperature: 0, seed: 3 });
      expect(sampler.greedy).toBe(true);
      for (let i = 0; i < 20; i++) expect(sampler.sample(logits)).toBe(2);
    }
  });
});

describe('edge cases', () => {
  it('top-p keeps at least one token, even with topP 0', () => {
    const sampler = createSampler({ doSample: true, topP: 0, seed: 1 });
    const { tokenIds } = sampler.distribution(Float32Array.of(1, 5, 2, 4.9));
    expect([...tokenIds]).toEqual([1]);
  });

  it('never draws a -Infinity token, and skips them in every warper', () => {
    const logits = Float32Array.of(-Infinity, 0, -Infinity, 0.5, -Infinity);
    for (const config of [{}, { topK: 4 }, { topP: 0.99 }, { minP: 0.01 }, { typicalP: 0.99 }]) {
      const sampler = createSampler({ doSample: true, seed: 5, ...config });
      for (let i = 0; i < 200; i++) expect([1, 3]).toContain(sampler.sample(logits));
    }
  });

  it('rejects logits with nothing to draw, NaN, or of the wrong type', () => {
    const sampler = createSampler({ doSample: true, topK: 2, seed: 1 });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return (error as SamplingError).code;
      }
      return 'no error';
    };
    expect(code(() => sampler.sample(Float32Array.of(-Infinity, -Infinity, -Infinity)))).toBe(
      'invalid_logits',
    );
    expect(code(() => sampler.sample(Float32Array.of(Number.NaN, 1, 2)))).toBe('invalid_logits');
    expect(code(() => sampler.sample(new Float32Array(0)))).toBe('invalid_logits');
    expect(code(() => createSampler().sample([1, 2] as never))).toBe('invalid_logits');
    expect(
      code(() => createSampler({ doSample: true, seed: 1 }).sample(Float32Array.of(Number.NaN, 1))),
    ).toBe('invalid_logits');
  });

  it('never picks a NaN logit in the top-k scan or in greedy decoding', () => {
    const logits = Float32Array.from({ length: 100 }, (_, i) => (i === 60 ? Number.NaN : i % 7));
    const { tokenIds } = createSampler({ doSample: true, topK: 5, seed: 1 }).distribution(logits);
    expect([...tokenIds]).not.toContain(60);
    expect(createSampler().sample(logits)).toBe(6);
  });

  it('keeps every token tied with the k-th under top-k, as Hugging Face does', () => {
    const sampler = createSampler({ doSample: true, topK: 2, seed: 1 });
    const { tokenIds } = sampler.distribution(Float32Array.of(1, 2, 2, 2, 0.5));
    expect([...tokenIds]).toEqual([1, 2, 3]);
  });

  it('allocates nothing per token once warm (same scratch reused)', () => {
    const sampler = createSampler({
      doSample: true,
      topK: 50,
      topP: 0.9,
      repetitionPenalty: 1.1,
      seed: 1,
    });
    const logits = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 4);
    const first = sampler.process(logits, [1, 2, 3]);
    sampler.sample(logits, [1, 2, 3]);
    expect(sampler.process(logits, [4, 5])).toBe(first);
  });
});

describe('config validation names the bad field', () => {
  const cases: [object, RegExp][] = [
    [{ doSample: true, topP: 1.5 }, /topP must be a finite number >= 0 and <= 1, got 1.5/],
    [{ doSample: true, topK: 2.5 }, /topK must be an integer >= 0, got 2.5/],
    [{ doSample: true, temperature: -1 }, /temperature must be a finite number >= 0, got -1/],
    [{ doSample: true, typicalP: 0 }, /typicalP must be a finite number > 0 and <= 1, got 0/],
    [{ repetitionPenalty: 0 }, /repetitionPenalty must be a finite number > 0, got 0/],
    [{ noRepeatNgramSize: -2 }, /noRepeatNgramSize must be an integer >= 0, got -2/],
    [{ seed: 1.5 }, /seed must be an integer, got 1.5/],
    [{ doSample: 'yes' }, /doSample must be a boolean, got "yes"/],
    [{ logitBias: { x: 1 } }, /logitBias must be keyed by non-negative integer token ids, got "x"/],
    [{ logitBias: { 3: Number.NaN } }, /logitBias\[3\] must be a number/],
    [{ topP: 0.9 }, /topP \(0.9\) only applies when sampling; set doSample: true/],
    [{ temperature: 0.7 }, /temperature \(0.7\) only applies when sampling/],
    [{ top_p: 0.9 }, /unknown option "top_p"; did you mean topP\?/],
  ];
  it.each(cases)('%o', (config, message) => {
    expect(() => createSampler(config)).toThrow(message);
    try {
      createSampler(config);
    } catch (error) {
      expect(error).toBeInstanceOf(LlmkitError);
      expect((error as LlmkitError).code).toBe('invalid_config');
    }
  });

  it('fills in the documented defaults', () => {
    const { config } = createSampler({ seed: 4 });
    expect(config).toMatchObject({
      doSample: false,
      temperature: 1,
      topK: 0,
      topP: 1,
      minP: 0,
      typicalP: 1,
      repetitionPenalty: 1,
      frequencyPenalty: 0,
      presencePenalty: 0,
      noRepeatNgramSize: 0,
      seed: 4,
    });
  });
});
