import { Linear, manualSeed } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { describe, expect, it } from 'vitest';
import { evaluateLoss, quantizeWithReport, weightBytes } from './report.js';

describe('quality report', () => {
  it('counts bytes of every tensor once', () => {
    expect(weightBytes(new Linear(4, 2))).toBe(40);
    const tied = new GPT({ vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 32 });
    const params = tied.parameters().reduce((s, p) => s + p.size, 0);
    expect(weightBytes(tied)).toBe(4 * params);
  });
  it('evaluateLoss is the token-weighted mean of the windows, the short tail included', () => {
    manualSeed(5);
    const model = new GPT({ vocabSize: 12, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 32 });
    const tokens = Array.from({ length: 21 }, (_, i) => (i * 7) % 12);
    // Windows of 8 + 1: [0..9), [8..17), [16..21): 8, 8 and 4 predictions.
    const one = (a: number, b: number) =>
      evaluateLoss(model, tokens.slice(a, b), { sequenceLength: 8 });
    const expected = (8 * one(0, 9) + 8 * one(8, 17) + 4 * one(16, 21)) / 20;
    expect(evaluateLoss(model, tokens, { sequenceLength: 8, batchSize: 2 })).toBeCloseTo(
      expected,
      5,
    );
  });
  it('reports sizes and perplexity before and after', () => {
    manualSeed(6);
    const model = new GPT({ vocabSize: 12, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 64 });
    const tokens = Array.from({ length: 100 }, (_, i) => (i * 5 + (i >> 3)) % 12);
    const report = quantizeWithReport(model, { format: 'int8' }, { tokens });
    expect(report.layerBytesAfter / report.layerBytesBefore).toBeCloseTo(0.25, 1);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
    expect(report.perplexityBefore).toBeCloseTo(Math.exp(report.lossBefore as number), 6);
    expect(Math.abs(report.perplexityChangePercent as number)).toBeLessThan(1);
  });
});
