import { describe, expect, it } from 'vitest';
import { createRandom } from '../random.js';
import { TopKWarper } from './top-k.js';
import { TopPWarper } from './top-p.js';
import { warpLogits } from './types.js';

/** Hugging Face's rule by a full stable sort: the plainest statement of it. */
function referenceTopP(logits: Float32Array, topP: number): number[] {
  const order = [...logits.keys()].sort((a, b) => logits[a] - logits[b] || a - b);
  const max = Math.max(...logits);
  const weights = order.map((id) => Math.exp(logits[id] - max));
  const sum = weights.reduce((a, b) => a + b, 0);
  const kept: number[] = [];
  let cumulative = 0;
  order.forEach((id, rank) => {
    cumulative += weights[rank];
    if (cumulative > (1 - topP) * sum || rank === order.length - 1) kept.push(id);
  });
  return kept.sort((a, b) => a - b);
}

describe('top-p on large candidate sets (bucketed path) equals a full sort', () => {
  const random = createRandom(77);
  const cases: [number, number, number][] = [];
  for (const scale of [1e-4, 0.05, 1, 4, 30]) {
    for (const topP of [0.1, 0.5, 0.9, 0.999])
      cases.push([scale, topP, 1500 + Math.floor(random.nextFloat() * 3000)]);
  }
  it.each(cases)('scale %d, topP %d, %i tokens', (scale, topP, size) => {
    const logits = Float32Array.from({ length: size }, () => {
      const value = (random.nextFloat() - 0.5) * 2 * scale;
      return random.nextFloat() < 0.1 ? Math.round(value) : value; // some exact ties
    });
    const warped = warpLogits(logits, [new TopPWarper(topP)]);
    const kept = [...warped.keys()].filter((id) => warped[id] > -Infinity);
    expect(kept).toEqual(referenceTopP(logits, topP));
  });

  it('gives the same set after top-k as top-p alone on those k tokens', () => {
    const logits = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 0.37) * 6);
    const both = warpLogits(logits, [new TopKWarper(2000), new TopPWarper(0.8)]);
    const onlyK = warpLogits(logits, [new TopKWarper(2000)]);
    const reference = warpLogits(onlyK, [new TopPWarper(0.8)]);
    expect([...both]).toEqual([...reference]);
  });
});

describe('top-p minTokensToKeep on a large vocabulary', () => {
  it('keeps exactly the most likely minTokensToKeep when the rule would keep fewer', () => {
    const random = createRandom(5);
    const logits = Float32Array.from({ length: 3000 }, () => random.nextFloat() * 10);
    const warped = warpLogits(logits, [new TopPWarper(0.001, 7)]);
    const kept = [...warped.keys()].filter((id) => warped[id] > -Infinity);
    const top7 = [...logits.keys()]
      .sort((a, b) => logits[b] - logits[a])
      .slice(0, 7)
      .sort((a, b) => a - b);
    expect(kept).toEqual(top7);
  });
});
