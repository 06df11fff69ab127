import { describe, expect, it } from 'vitest';
import { defaultGenerator, manualSeed } from '../random.js';
import { withoutInit } from './init.js';
import { Linear } from './linear.js';

describe('withoutInit', () => {
  it('builds modules without drawing initial values and restores the initialisers after', () => {
    manualSeed(7);
    const before = defaultGenerator.getState();
    const skipped = withoutInit(() => new Linear(4, 3));
    expect(Array.from(skipped.weight.dataSync())).toEqual(new Array(12).fill(0));
    expect(Array.from(skipped.bias!.dataSync())).toEqual([0, 0, 0]);
    expect(defaultGenerator.getState()).toEqual(before); // no random numbers were drawn
    const drawn = new Linear(4, 3);
    expect(Array.from(drawn.weight.dataSync()).some((x) => x !== 0)).toBe(true);
  });

  it('turns the initialisers back on when the builder throws', () => {
    expect(() =>
      withoutInit(() => {
        throw new Error('bad config');
      }),
    ).toThrow('bad config');
    expect(Array.from(new Linear(2, 2).weight.dataSync()).some((x) => x !== 0)).toBe(true);
  });
});
