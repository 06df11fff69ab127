import { describe, expect, it } from 'vitest';
import { createSampler } from '../sampler.js';
import { fixtureLogits, loadFixtures } from '../test-utils.js';
import { warpLogits } from './types.js';

// Fixtures: Hugging Face's processors and warpers transcribed to torch ops
// (scripts/make-fixtures.py), applied to seeded random logits plus hand-made edge cases.
const fixtures = loadFixtures();

describe('processors and warpers match Hugging Face semantics (torch fixtures)', () => {
  it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s', (_, fixture) => {
    const sampler = createSampler({ ...fixture.config, doSample: true, seed: 1 });
    const logits = fixtureLogits(fixture);
    const original = logits.slice();
    const processed = sampler.process(logits, fixture.previous);
    const warped = warpLogits(processed, sampler.warpers);
    expect(logits).toEqual(original); // the caller's logits are never written

    const keptIds = fixture.kept.map(([id]) => id);
    const ours = [...warped.keys()].filter((id) => warped[id] > -Infinity);
    expect(ours).toEqual(keptIds);
    for (const [id, score] of fixture.kept) {
      expect(Math.abs(warped[id] - score)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(score)));
    }

    const { tokenIds, probabilities } = sampler.distribution(logits, fixture.previous);
    expect([...tokenIds]).toEqual(keptIds);
    fixture.kept.forEach(([, , probability], i) => {
      expect(Math.abs(probabilities[i] - probability)).toBeLessThan(2e-6);
    });
  });
});
