import { describe, expect, it } from 'vitest';
import { learningRateAt, type Schedule, validateSchedule } from './schedule.js';
import { resolveConfig } from './config.js';

const cosine: Schedule = {
  kind: 'cosine',
  learningRate: 1e-3,
  warmupSteps: 100,
  decaySteps: 2000,
  minLearningRate: 1e-4,
};

describe('learningRateAt', () => {
  it("follows nanoGPT's warmup and cosine decay (hand-computed values)", () => {
    expect(learningRateAt(cosine, 0)).toBeCloseTo(1e-3 / 101, 12);
    expect(learningRateAt(cosine, 99)).toBeCloseTo(1e-3 * (100 / 101), 12);
    expect(learningRateAt(cosine, 100)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(cosine, 575)).toBeCloseTo(1e-4 + 0.8535533905932737 * 9e-4, 12); // cos(pi/4)
    expect(learningRateAt(cosine, 1050)).toBeCloseTo(5.5e-4, 12);
    expect(learningRateAt(cosine, 2000)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(cosine, 5000)).toBe(1e-4);
  });

  it('decays linearly and holds constant', () => {
    expect(learningRateAt({ ...cosine, kind: 'linear' }, 575)).toBeCloseTo(7.75e-4, 12);
    expect(learningRateAt({ ...cosine, kind: 'constant' }, 1500)).toBe(1e-3);
  });

  it('rejects inconsistent schedules, naming the field', () => {
    expect(() => validateSchedule({ ...cosine, decaySteps: 50 })).toThrow(
      /schedule: decaySteps must be a finite number > 100, got 50/,
    );
    expect(() => validateSchedule({ ...cosine, minLearningRate: 1 })).toThrow(
      /minLearningRate must be a finite number >= 0 and <= 0.001, got 1/,
    );
    // @ts-expect-error: a bad kind on purpose
    expect(() => validateSchedule({ ...cosine, kind: 'step' })).toThrow(
      /kind must be one of 'constant', 'linear', 'cosine', got "step"/,
    );
  });

  it('resolveConfig fills the defaults and rejects unknown or bad fields as invalid_config', () => {
    const config = resolveConfig({ maxSteps: 2000 });
    expect(config.schedule).toEqual({
      kind: 'cosine',
      learningRate: 1e-3,
      warmupSteps: 100,
      decaySteps: 2000,
      minLearningRate: 1e-4,
    });
    expect(config).toMatchObject({ betas: [0.9, 0.999], evalInterval: 250, evalBatches: 20 });
    expect(() => resolveConfig({ maxSteps: 10, maxIters: 5 } as never)).toThrow(
      /Trainer config: unknown option "maxIters"/,
    );
    expect(() => resolveConfig({ maxSteps: 10, schedule: { warmup: 5 } } as never)).toThrow(
      /Trainer config: schedule: unknown option "warmup"/,
    );
    expect(() => resolveConfig({ maxSteps: 10, betas: [0.9, 1] })).toThrow(/betas\[1\]/);
    expect(() => resolveConfig({ maxSteps: 0 })).toThrow(
      expect.objectContaining({ name: 'LlmkitError', code: 'invalid_config' }),
    );
  });
});
