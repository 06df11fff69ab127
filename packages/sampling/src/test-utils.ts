// Helpers shared by the tests (excluded from the build).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SamplerConfig } from './config.js';

/** One case of src/fixtures/warpers.json (written by scripts/make-fixtures.py with torch). */
export interface FixtureCase {
  name: string;
  logits: (number | null)[];
  previous: number[];
  config: SamplerConfig & { logitBias?: Record<string, number> };
  /** [token id, warped score, probability] for every token torch did not set to -inf. */
  kept: [number, number, number][];
}

export function loadFixtures(): FixtureCase[] {
  const path = fileURLToPath(new URL('./fixtures/warpers.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')).cases;
}

export function fixtureLogits(fixture: FixtureCase): Float32Array {
  return Float32Array.from(fixture.logits, (v) => (v === null ? -Infinity : v));
}

/**
 * Upper tail of the chi-square distribution, P(X >= statistic) with `degrees` degrees of freedom:
 * the regularized upper incomplete gamma Q(degrees / 2, statistic / 2), by its series below
 * a + 1 and its continued fraction (modified Lentz) above.
 */
export function chiSquarePValue(statistic: number, degrees: number): number {
  const a = degrees / 2;
  const x = statistic / 2;
  if (x <= 0) return 1;
  const logPrefactor = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(logPrefactor);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(logPrefactor) * h;
}

/** Lanczos approximation of log Gamma (g = 7, n = 9), accurate to ~1e-15 for a > 0. */
function logGamma(a: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (a < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * a)) - logGamma(1 - a);
  const z = a - 1;
  let sum = coefficients[0];
  for (let i = 1; i < 9; i++) sum += coefficients[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Pearson's chi-square goodness of fit of `counts` (per token id) against `expected`
 * probabilities, pooling the bins whose expected count is below 5 into one. Returns the p-value
 * and the number of draws that fell on tokens of probability zero.
 */
export function chiSquareTest(
  counts: Map<number, number>,
  expected: Map<number, number>,
  draws: number,
): { pValue: number; statistic: number; degrees: number; impossible: number } {
  let impossible = 0;
  for (const [id, count] of counts) if (!(expected.get(id)! > 0)) impossible += count;
  let statistic = 0;
  let bins = 0;
  let pooledExpected = 0;
  let pooledObserved = 0;
  for (const [id, probability] of expected) {
    const e = probability * draws;
    const o = counts.get(id) ?? 0;
    if (e < 5) {
      pooledExpected += e;
      pooledObserved += o;
      continue;
    }
    statistic += (o - e) ** 2 / e;
    bins++;
  }
  if (pooledExpected > 0) {
    statistic += (pooledObserved - pooledExpected) ** 2 / pooledExpected;
    bins++;
  }
  const degrees = Math.max(1, bins - 1);
  return { pValue: chiSquarePValue(statistic, degrees), statistic, degrees, impossible };
}
