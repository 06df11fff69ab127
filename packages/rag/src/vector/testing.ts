// Deterministic clustered vectors for tests and benchmarks: `clusters` random unit centres, each
// point a centre plus Gaussian noise of `spread`, normalised to unit length.

/** Makes `count` clustered unit vectors of `dimension` from a seed (not exported from the package). */
export function clusteredVectors(
  count: number,
  dimension: number,
  options: { clusters?: number; spread?: number; seed?: number } = {},
): Float32Array[] {
  const clusters = options.clusters ?? 100;
  const spread = options.spread ?? 0.35;
  let state = (options.seed ?? 42) >>> 0 || 1;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 1) / 4294967297;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const normalise = (v: Float32Array) => {
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i] /= norm;
    return v;
  };
  const centres = Array.from({ length: clusters }, () =>
    normalise(Float32Array.from({ length: dimension }, gaussian)),
  );
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(uniform() * clusters)];
    return normalise(
      Float32Array.from(centre, (c) => c + (spread * gaussian()) / Math.sqrt(dimension)),
    );
  });
}
