import type { Candidates } from '../candidates.js';
import { allMaskedError, SamplingError } from '../errors.js';
import type { RandomSource } from '../random.js';

/**
 * Draws one token from the softmax of the candidates' scores (multinomial sampling of one
 * draw): a single uniform number `u` in [0, sum of weights) and a walk until the running sum
 * passes `u`. Works on a dense set without copying it.
 *
 * @example
 * ```ts
 * const candidates = new Candidates().reset(Float32Array.of(0, 0, 5));
 * drawToken(candidates, createRandom(1)); // 2, most of the time
 * ```
 */
export function drawToken(candidates: Candidates, random: RandomSource): number {
  if (candidates.dense) return drawDense(candidates, random);
  const sum = candidates.exponentiate();
  const { weights, ids, size } = candidates;
  const target = random.nextFloat() * sum;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < size; i++) {
    const weight = weights[i];
    cumulative += weight;
    if (weight > 0) {
      last = i;
      if (target < cumulative) return ids[i];
    }
  }
  return ids[last]; // only reached through rounding in the last place
}

function drawDense(candidates: Candidates, random: RandomSource): number {
  const { source, weights } = candidates;
  const scale = candidates.scale;
  let max = -Infinity;
  for (let id = 0; id < source.length; id++) if (source[id] > max) max = source[id];
  if (max === -Infinity) throw allMaskedError();
  max *= scale;
  let sum = 0;
  for (let id = 0; id < source.length; id++) {
    const weight = Math.exp(source[id] * scale - max);
    weights[id] = weight;
    sum += weight;
  }
  if (Number.isNaN(sum) || sum === Infinity) {
    throw new SamplingError('invalid_logits', 'sample: logits contain NaN or +Infinity');
  }
  const target = random.nextFloat() * sum;
  let cumulative = 0;
  let last = -1;
  for (let id = 0; id < source.length; id++) {
    const weight = weights[id];
    cumulative += weight;
    if (weight > 0) {
      last = id;
      if (target < cumulative) return id;
    }
  }
  return last;
}
