import type { Candidates } from '../candidates.js';
import { checkNumber } from '@llmkit/utils';
import type { LogitsWarper } from './types.js';

/**
 * Divides the logits by `temperature` (Hugging Face's `TemperatureLogitsWarper`): below 1
 * sharpens the distribution, above 1 flattens it. Free while the set is dense (the division is
 * folded into later passes).
 *
 * @example
 * ```ts
 * warpLogits(Float32Array.of(1, 2), [new TemperatureWarper(0.5)]); // Float32Array [2, 4]
 * ```
 */
export class TemperatureWarper implements LogitsWarper {
  /** Always `temperature`. */
  readonly name = 'temperature';
  /** The divisor, > 0. */
  readonly temperature: number;

  /** @param temperature strictly positive; use greedy decoding instead of 0 */
  constructor(temperature: number) {
    this.temperature = checkNumber('TemperatureWarper', 'temperature', temperature, {
      min: 0,
      minExclusive: true,
    });
  }

  warp(candidates: Candidates): void {
    if (candidates.dense) {
      candidates.scale /= this.temperature;
      return;
    }
    const { scores, size } = candidates;
    for (let i = 0; i < size; i++) scores[i] /= this.temperature;
    candidates.weightsFresh = false;
  }
}
