import { allMaskedError, nanError, SamplingError } from './errors.js';
import { argmax } from './strategies/greedy.js';

/**
 * The working set of candidate tokens that the warpers narrow down, with scratch buffers reused
 * from one token to the next so that sampling allocates nothing per token.
 *
 * It starts dense: every token of the vocabulary is a candidate, its score `source[id] * scale`
 * (the processed logits, never copied). The first warper that removes tokens makes it sparse:
 * `ids[0..size)` with their scores in `scores[0..size)`, in no particular order. Removed tokens
 * are simply absent (Hugging Face sets them to `-Infinity`; the distribution is the same).
 * Tokens whose logit is `-Infinity` carry no probability and are dropped as soon as the set
 * becomes sparse.
 */
export class Candidates {
  /** The processed logits the set was reset with; read, never written. */
  source: Float32Array = new Float32Array(0);
  /** Number of tokens in the vocabulary (`source.length`). */
  vocabSize = 0;
  /** `true` while every token is a candidate, scored `source[id] * scale`. */
  dense = true;
  /** The inverse temperature applied to `source` while dense. */
  scale = 1;
  /** Candidate token ids, `ids[0..size)`, when sparse. */
  ids: Int32Array = new Int32Array(0);
  /** Candidate scores (temperature applied), `scores[0..size)`, when sparse. */
  scores: Float64Array = new Float64Array(0);
  /** Number of candidates (`vocabSize` while dense). */
  size = 0;
  /** The highest score, as found by the last {@link Candidates.exponentiate}. */
  max = -Infinity;
  /**
   * `true` while `weights[0..size)` still hold `exp(scores - max)` for the current candidates and
   * `weightSum` their sum. Anything that changes the set or its scores must clear it (or keep the
   * weights in step, as top-p does), so that sampling can skip a second exponential pass.
   */
  weightsFresh = false;
  /** The sum of `weights[0..size)` while `weightsFresh`. */
  weightSum = 0;
  /** Scratch: `exp(score - max)` per candidate, filled by {@link Candidates.exponentiate}. */
  weights: Float64Array = new Float64Array(0);
  /** Scratch: a permutation of `0..size)` for the warpers that sort. */
  order: Int32Array = new Int32Array(0);
  /** Scratch: a small integer per candidate (top-p's bucket numbers). */
  tags: Uint16Array = new Uint16Array(0);

  /** Starts over with every token of `logits` as a candidate, growing the scratch if needed. */
  reset(logits: Float32Array): this {
    if (logits.length === 0) {
      throw new SamplingError('invalid_logits', 'sample: logits are empty; expected one per token');
    }
    if (this.ids.length < logits.length) {
      this.ids = new Int32Array(logits.length);
      this.scores = new Float64Array(logits.length);
      this.weights = new Float64Array(logits.length);
      this.order = new Int32Array(logits.length);
      this.tags = new Uint16Array(logits.length);
    }
    this.source = logits;
    this.vocabSize = logits.length;
    this.dense = true;
    this.scale = 1;
    this.size = logits.length;
    this.weightsFresh = false;
    return this;
  }

  /** Makes the set sparse (if dense) by copying every finite-scored token into `ids`/`scores`. */
  materialize(): this {
    if (!this.dense) return this;
    const { source, scale, ids, scores } = this;
    let size = 0;
    for (let id = 0; id < source.length; id++) {
      const value = source[id];
      if (value > -Infinity) {
        ids[size] = id;
        scores[size] = value * scale;
        size++;
      } else if (Number.isNaN(value)) {
        throw nanError(id);
      }
    }
    this.dense = false;
    this.size = size;
    this.weightsFresh = false;
    if (size === 0) throw allMaskedError();
    return this;
  }

  /** The highest score among the candidates (`-Infinity` if all are masked). */
  maxScore(): number {
    let max = -Infinity;
    if (this.dense) {
      let best = -1;
      try {
        best = argmax(this.source);
      } catch {
        return -Infinity; // every logit is -Infinity
      }
      return this.source[best] * this.scale;
    }
    const { scores, size } = this;
    for (let i = 0; i < size; i++) if (scores[i] > max) max = scores[i];
    return max;
  }

  /**
   * Materializes the set, fills `weights[i] = exp(scores[i] - max)` and returns their sum, the
   * softmax normalizer. Throws `invalid_logits` when nothing has probability (all `-Infinity`).
   */
  exponentiate(): number {
    this.materialize();
    if (this.weightsFresh) return this.weightSum;
    const { scores, weights, size } = this;
    const max = this.maxScore();
    this.max = max;
    let sum = 0;
    for (let i = 0; i < size; i++) {
      const weight = Math.exp(scores[i] - max);
      weights[i] = weight;
      sum += weight;
    }
    if (!(sum > 0) || !Number.isFinite(sum)) throw allMaskedError();
    this.weightsFresh = true;
    this.weightSum = sum;
    return sum;
  }

  /**
   * Keeps the candidates at positions where `keep` returns true, in order; for warpers written
   * without the fast paths. Materializes first.
   */
  retain(keep: (position: number) => boolean): this {
    this.materialize();
    this.weightsFresh = false;
    const { ids, scores } = this;
    let size = 0;
    for (let i = 0; i < this.size; i++) {
      if (keep(i)) {
        ids[size] = ids[i];
        scores[size] = scores[i];
        size++;
      }
    }
    this.size = size;
    return this;
  }

  /** Copies the current distribution out: token ids ascending and their probabilities. */
  distribution(): { tokenIds: Int32Array; probabilities: Float64Array } {
    const sum = this.exponentiate();
    const order = Array.from({ length: this.size }, (_, i) => i).sort(
      (a, b) => this.ids[a] - this.ids[b],
    );
    return {
      tokenIds: Int32Array.from(order, (i) => this.ids[i]),
      probabilities: Float64Array.from(order, (i) => this.weights[i] / sum),
    };
  }
}
