// Seeded random numbers, generated in core so every backend sees identical streams.
// xoshiro128** (Blackman and Vigna, 2018) seeded through splitmix32.
import { TensorError } from './errors.js';

/**
 * A seedable random number generator. Pass one as `{ generator }` to random ops for a private
 * stream; otherwise they use the global generator that `manualSeed` resets.
 *
 * @example
 * ```ts
 * const generator = new Generator(42);
 * const noise = randn([2, 3], { generator });
 * ```
 */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  /** Creates a generator seeded with `seed` (an integer; default 0). */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Resets the stream to the one `seed` starts. */
  seed(seed: number): void {
    if (!Number.isFinite(seed))
      throw new TensorError('invalid_argument', `seed must be a finite number, got ${seed}`);
    // splitmix32 over the low and high 32 bits of the seed fills the 128-bit state.
    let x = (Math.trunc(seed) >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    this.spare = null;
  }

  /** The generator's position, to save with a checkpoint and restore with {@link Generator.setState}. */
  getState(): { words: number[]; spare: number | null } {
    return { words: Array.from(this.s), spare: this.spare };
  }

  /** Returns to a position from {@link Generator.getState}; the stream continues exactly. */
  setState(state: { words: readonly number[]; spare: number | null }): void {
    if (
      state?.words?.length !== 4 ||
      !state.words.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)
    ) {
      throw new TensorError(
        'invalid_argument',
        `Generator.setState: expected { words: four uint32, spare }, got ${JSON.stringify(state)}`,
      );
    }
    this.s.set(state.words);
    this.spare = state.spare;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform float64 in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A standard normal sample (Box-Muller; pairs are used in order). */
  nextNormal(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** A uniform integer in [low, high). */
  nextInt(low: number, high: number): number {
    return low + Math.floor(this.nextFloat() * (high - low));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The global generator used when no `{ generator }` is passed. */
export const defaultGenerator = new Generator(0);

/**
 * Seeds the global generator, making random ops (randn, dropout, initialisers) reproducible.
 *
 * @example
 * ```ts
 * manualSeed(1337);
 * ```
 */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(seed);
}
