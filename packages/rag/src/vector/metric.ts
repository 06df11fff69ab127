// Distance metrics for the vector indexes. Internally every index ranks by a distance where lower
// is closer; results report a score where higher is better:
//
//   metric   stored vector      distance            score reported
//   cosine   unit-normalised    -dot(a, b)          cosine similarity, -distance
//   dot      as given           -dot(a, b)          dot product
//   l2       as given           squared Euclidean   -Euclidean distance
import { RagError } from '../errors.js';

/** How vectors are compared. */
export type Metric = 'cosine' | 'dot' | 'l2';

/** The metrics, for validation. */
export const METRICS: readonly Metric[] = ['cosine', 'dot', 'l2'];

/** A vector as callers pass it. */
export type VectorLike = Float32Array | readonly number[];

/** Checks a dimension and a metric up front. */
export function validateVectorOptions(where: string, dimension: number, metric: string): void {
  if (!Number.isInteger(dimension) || dimension < 1) {
    throw new RagError(
      'invalid_config',
      `${where}: dimension is ${dimension}, expected an integer >= 1`,
    );
  }
  if (!METRICS.includes(metric as Metric)) {
    throw new RagError(
      'invalid_config',
      `${where}: metric is ${JSON.stringify(metric)}, expected one of ${METRICS.join(', ')}`,
    );
  }
}

/**
 * Copies `vector` into `out` at `offset`, normalised to unit length for cosine. Throws when the
 * dimension differs (naming both) or a value is not finite, or for cosine a zero vector.
 */
export function writeVector(
  where: string,
  vector: VectorLike,
  dimension: number,
  metric: Metric,
  out: Float32Array,
  offset: number,
): void {
  if (vector?.length !== dimension) {
    throw new RagError(
      'dimension_mismatch',
      `${where}: vector has dimension ${vector?.length}, the index has dimension ${dimension}`,
    );
  }
  let norm = 0;
  for (let i = 0; i < dimension; i++) {
    const value = vector[i];
    if (!Number.isFinite(value))
      throw new RagError(
        'invalid_data',
        `${where}: vector[${i}] is ${value}, expected a finite number`,
      );
    norm += value * value;
  }
  const scale = metric === 'cosine' ? 1 / Math.sqrt(norm) : 1;
  if (metric === 'cosine' && norm === 0)
    throw new RagError('invalid_data', `${where}: zero vector cannot be compared by cosine`);
  for (let i = 0; i < dimension; i++) out[offset + i] = vector[i] * scale;
}

/** Dot product of `a[aOffset ..]` and `b[bOffset ..]` over `dimension` values (unrolled by 4). */
export function dot(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  dimension: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dimension; i += 4) {
    s0 += a[aOffset + i] * b[bOffset + i];
    s1 += a[aOffset + i + 1] * b[bOffset + i + 1];
    s2 += a[aOffset + i + 2] * b[bOffset + i + 2];
    s3 += a[aOffset + i + 3] * b[bOffset + i + 3];
  }
  for (; i < dimension; i++) s0 += a[aOffset + i] * b[bOffset + i];
  return s0 + s1 + s2 + s3;
}

/** Squared Euclidean distance (unrolled by 4). */
export function squaredL2(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  dimension: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dimension; i += 4) {
    const d0 = a[aOffset + i] - b[bOffset + i];
    const d1 = a[aOffset + i + 1] - b[bOffset + i + 1];
    const d2 = a[aOffset + i + 2] - b[bOffset + i + 2];
    const d3 = a[aOffset + i + 3] - b[bOffset + i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dimension; i++) {
    const d = a[aOffset + i] - b[bOffset + i];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** A distance function over two stored vectors; lower is closer. */
export type DistanceFunction = (
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  dimension: number,
) => number;

/** The distance of a metric (see the table at the top of this file). */
export function distanceFor(metric: Metric): DistanceFunction {
  if (metric === 'l2') return squaredL2;
  // cosine vectors are stored unit-normalised, so cosine ranks like dot
  return (a, ao, b, bo, d) => -dot(a, ao, b, bo, d);
}

/** Turns an internal distance into the reported score (higher is better). */
export function scoreFromDistance(metric: Metric, distance: number): number {
  if (metric === 'cosine' || metric === 'dot') return -distance;
  return -Math.sqrt(Math.max(0, distance));
}
