import { describe, expect, it } from 'vitest';
import { createRandom, Xoshiro128 } from './random.js';

describe('xoshiro128**', () => {
  it('gives the published test vector from state (1, 2, 3, 4)', () => {
    // Output of the reference C code (Blackman and Vigna), as in the rand_xoshiro crate's tests.
    const random = new Xoshiro128([1, 2, 3, 4]);
    expect(Array.from({ length: 10 }, () => random.nextUint32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597,
      4258142804,
    ]);
  });

  it('is reproducible per seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 5 }, () => random.nextFloat());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(1)).not.toEqual(draw(2 ** 32 + 1));
  });

  it('gives floats in [0, 1) with a uniform mean and spread', () => {
    const random = createRandom(7);
    let sum = 0;
    let sumSquares = 0;
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = random.nextFloat();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sumSquares += u * u;
    }
    expect(outside).toBe(0);
    // Mean 1/2 and variance 1/12; 5 standard errors.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sumSquares / n - (sum / n) ** 2 - 1 / 12)).toBeLessThan(0.002);
  });

  it('rejects an all-zero state', () => {
    expect(() => new Xoshiro128([0, 0, 0, 0])).toThrow(/not all zero/);
  });
});
