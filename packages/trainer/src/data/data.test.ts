import { describe, expect, it } from 'vitest';
import { ExampleBatches, IGNORE_INDEX, instructionExample, padBatch } from './examples.js';
import { TokenWindows } from './token-windows.js';

const tokens = Array.from({ length: 1000 }, (_, i) => i % 97);

describe('TokenWindows', () => {
  it('takes contiguous windows with targets shifted by one, from the right split', () => {
    const data = new TokenWindows(tokens, { blockSize: 8, batchSize: 4 });
    expect(data.tokenCount('train')).toBe(900);
    const { inputs, targets } = data.next('train');
    for (let b = 0; b < 4; b++) {
      for (let t = 0; t < 8; t++) {
        expect(targets[b * 8 + t]).toBe((inputs[b * 8 + t] + 1) % 97);
      }
    }
  });

  it('restores its exact position', () => {
    const a = new TokenWindows(tokens, { blockSize: 8, batchSize: 4 });
    for (let i = 0; i < 5; i++) a.next(i % 2 ? 'validation' : 'train');
    const state = JSON.parse(JSON.stringify(a.state()));
    const b = new TokenWindows(tokens, { blockSize: 8, batchSize: 4 });
    b.restore(state);
    expect(b.next('train').inputs).toEqual(a.next('train').inputs);
  });

  it('names the problem when the data is too short for the block size', () => {
    expect(() => new TokenWindows(tokens.slice(0, 50), { blockSize: 64, batchSize: 2 })).toThrow(
      /the train split has 45 tokens \(of 50\); a window needs blockSize \+ 1 = 65/,
    );
  });
});

describe('instruction data', () => {
  it('masks the prompt out of the labels and pads correctly', () => {
    const a = instructionExample([5, 6, 7], [8, 9], { eosTokenId: 0 });
    expect(a).toEqual({
      inputIds: [5, 6, 7, 8, 9, 0],
      labels: [IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 8, 9, 0],
    });
    const b = instructionExample([1], [2], { eosTokenId: 0 });
    const batch = padBatch([a, b], { padTokenId: 3 });
    expect(batch.blockSize).toBe(5);
    expect(Array.from(batch.inputs)).toEqual([5, 6, 7, 8, 9, 1, 2, 3, 3, 3]);
    expect(Array.from(batch.targets)).toEqual([
      IGNORE_INDEX,
      IGNORE_INDEX,
      8,
      9,
      0,
      2,
      0,
      IGNORE_INDEX,
      IGNORE_INDEX,
      IGNORE_INDEX,
    ]);
    expect(Array.from(batch.attentionMask)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
  });

  it('shuffles per epoch reproducibly and resumes in place', () => {
    const examples = Array.from({ length: 7 }, (_, i) => instructionExample([i], [i + 10]));
    const make = () =>
      new ExampleBatches(
        { train: examples, validation: examples.slice(0, 2) },
        { batchSize: 3, padTokenId: 0, seed: 5 },
      );
    const a = make();
    // each row starts with its example's prompt id; the first 7 rows are one epoch: a permutation
    const rows = [a.next('train'), a.next('train'), a.next('train')].flatMap((batch) =>
      [0, 1, 2].map((r) => batch.inputs[r * batch.blockSize]),
    );
    expect([...rows.slice(0, 7)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(rows.slice(0, 7)).not.toEqual([0, 1, 2, 3, 4, 5, 6]);
    const b = make();
    b.restore(JSON.parse(JSON.stringify(a.state())));
    expect(b.next('train').inputs).toEqual(a.next('train').inputs);
  });
});
