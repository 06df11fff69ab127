/**
 * A small seeded pseudo-random generator: xoshiro128** (Blackman and Vigna, 2018,
 * https://prng.di.unimi.it/xoshiro128starstar.c), 128 bits of state, period 2^128 - 1, seeded
 * through SplitMix32 so that nearby seeds give unrelated streams. Pure 32-bit integer arithmetic,
 * so it gives the same numbers in every JavaScript engine.
 */

/** A source of uniform random numbers, such as the one {@link createRandom} returns. */
export interface RandomSource {
  /** A uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number;
}

/**
 * xoshiro128** over a four-word state. Construct with {@link createRandom} from a seed, or with
 * `new Xoshiro128(state)` from four raw words (used to check the published test vector).
 */
export class Xoshiro128 implements RandomSource {
  private readonly state: Uint32Array;

  /** @param state four 32-bit words, not all zero */
  constructor(state: ArrayLike<number>) {
    this.state = Uint32Array.from(state);
    if (this.state.length !== 4 || this.state.every((word) => word === 0)) {
      throw new RangeError('Xoshiro128: the state must be four 32-bit words, not all zero');
    }
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform float in [0, 1): 27 + 26 bits of two draws, like `random_double` in the C reference. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992; // (high * 2^26 + low) / 2^53
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** SplitMix32 step (the 32-bit variant of Steele, Lea and Flood's SplitMix): expands a seed. */
function splitMix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seeded xoshiro128** generator. The same seed gives the same numbers on every platform.
 *
 * @param seed any finite number; its integer part modulo 2^32 is used (integers up to 2^53 are
 * folded in whole, so `1` and `2 ** 32 + 1` differ)
 * @example
 * ```ts
 * const random = createRandom(42);
 * random.nextFloat(); // same value on every run
 * ```
 */
export function createRandom(seed: number): RandomSource {
  const integer = Math.trunc(seed);
  const low = integer >>> 0;
  const high = Math.floor(integer / 4294967296) >>> 0;
  const next = splitMix32(low ^ Math.imul(high, 0x27d4eb2d));
  const state = [next(), next(), next(), next()];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return new Xoshiro128(state);
}
