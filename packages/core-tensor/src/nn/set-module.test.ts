import { describe, expect, it } from 'vitest';
import { Linear } from './linear.js';
import { Module } from './module.js';

describe('Module.setModule', () => {
  it('swaps a child under its name and in the property that held it', () => {
    class Mlp extends Module {
      fc = this.addModule('fc', new Linear(2, 3));
    }
    const mlp = new Mlp();
    const old = mlp.fc;
    const replacement = new Linear(2, 3, { bias: false });
    mlp.setModule('fc', replacement);
    expect(mlp.fc).toBe(replacement);
    expect(mlp.namedChildren()).toEqual([['fc', replacement]]);
    expect(Object.keys(mlp.stateDict())).toEqual(['fc.weight']);
    expect(old.weight.disposed).toBe(false);
    expect(() => mlp.setModule('nope', replacement)).toThrow(/no child module 'nope'/);
  });
});
