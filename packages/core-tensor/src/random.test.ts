import { describe, expect, it } from 'vitest';
import { Generator } from './random.js';

describe('Generator state', () => {
  it('continues the same stream after getState / setState, including a pending normal', () => {
    const a = new Generator(42);
    for (let i = 0; i < 7; i++) a.nextFloat();
    a.nextNormal(); // leaves the pair's second value pending
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const expected = [a.nextNormal(), a.nextFloat(), a.nextUint32()];
    const b = new Generator(0);
    b.setState(saved);
    expect([b.nextNormal(), b.nextFloat(), b.nextUint32()]).toEqual(expected);
  });

  it('rejects a malformed state', () => {
    expect(() => new Generator().setState({ words: [1, 2], spare: null })).toThrow(
      /expected \{ words: four uint32/,
    );
  });
});
