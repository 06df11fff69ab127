import { SamplingError } from '../errors.js';

/**
 * Marks and counts token ids without clearing a vocabulary-sized array per token: an entry is
 * current only if its stamp equals the current generation, so starting over is one increment.
 */
export class TokenCounter {
  private stamps = new Uint32Array(0);
  private counts = new Uint32Array(0);
  private generation = 0;
  /** The distinct ids counted since the last {@link TokenCounter.start}, in first-seen order. */
  distinct = new Int32Array(0);
  /** How many entries of `distinct` are in use. */
  distinctSize = 0;

  /** Starts a new count over a vocabulary of `vocabSize` tokens. */
  start(vocabSize: number): void {
    if (this.stamps.length < vocabSize) {
      this.stamps = new Uint32Array(vocabSize);
      this.counts = new Uint32Array(vocabSize);
      this.distinct = new Int32Array(vocabSize);
      this.generation = 0;
    }
    this.generation++;
    if (this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
    this.distinctSize = 0;
  }

  /** Counts every id of `tokens`, checking each is a valid id below `vocabSize`. */
  addAll(tokens: ArrayLike<number>, vocabSize: number, where: string): void {
    for (let i = 0; i < tokens.length; i++) {
      const id = tokens[i];
      if (!(id >= 0 && id < vocabSize && Number.isInteger(id))) {
        throw new SamplingError(
          'invalid_data',
          `${where}: previousTokens[${i}] is ${id}; expected an integer token id in [0, ${vocabSize})`,
        );
      }
      if (this.stamps[id] !== this.generation) {
        this.stamps[id] = this.generation;
        this.counts[id] = 1;
        this.distinct[this.distinctSize++] = id;
      } else {
        this.counts[id]++;
      }
    }
  }

  /** How many times `id` was counted since the last start. */
  count(id: number): number {
    return this.stamps[id] === this.generation ? this.counts[id] : 0;
  }
}
