import { SamplingError } from './errors.js';

/**
 * Where a step call stands, so that a model with a KV cache can reuse it: row `i` of this call
 * extends row `parentRows[i]` of the previous call (beam search reorders and duplicates rows;
 * sampling drops finished ones), and belongs to prompt `promptIndex[i]`.
 */
export interface StepContext {
  /** 0 for the first call (the prompts themselves), then 1, 2, ... */
  step: number;
  /** For each row, the row of the previous call whose cache it continues; -1 on the first call. */
  parentRows: readonly number[];
  /** For each row, the index of the prompt it grew from. */
  promptIndex: readonly number[];
}

/** Next-token logits for every row of a step call: one `Float32Array` per row, or all rows in one. */
export type StepResult = Float32Array | readonly Float32Array[];

/**
 * The model, as the generation loop sees it: given the current sequences (prompt plus generated
 * tokens, one per row), return each row's next-token logits, synchronously or as a promise. A
 * model with a KV cache feeds only each row's last token after the first call, using
 * {@link StepContext} to rearrange its cache. The sequence arrays belong to the loop and grow
 * after the call returns: copy any you keep.
 *
 * @example
 * ```ts
 * // a bigram table as the "model": logits of the next token depend on the last one
 * const step: StepFunction = (sequences) => sequences.map((row) => table[row[row.length - 1]]);
 * ```
 */
export type StepFunction = (
  sequences: readonly (readonly number[])[],
  context: StepContext,
) => StepResult | Promise<StepResult>;

/** Splits and checks a step result into one logits array per row. */
export function splitStepResult(result: StepResult, rows: number, where: string): Float32Array[] {
  let split: Float32Array[];
  if (result instanceof Float32Array) {
    if (result.length === 0 || result.length % rows !== 0) {
      throw new SamplingError(
        'invalid_data',
        `${where}: the step returned ${result.length} logits for ${rows} rows; expected rows * vocabSize`,
      );
    }
    const vocabSize = result.length / rows;
    split = Array.from({ length: rows }, (_, row) =>
      result.subarray(row * vocabSize, (row + 1) * vocabSize),
    );
  } else if (Array.isArray(result)) {
    split = result as Float32Array[];
  } else {
    throw new SamplingError(
      'invalid_data',
      `${where}: the step returned ${Object.prototype.toString.call(result)}; expected a Float32Array or an array of them`,
    );
  }
  if (split.length !== rows) {
    throw new SamplingError(
      'invalid_data',
      `${where}: the step returned ${split.length} rows of logits for ${rows} sequences`,
    );
  }
  const vocabSize = split[0]?.length;
  for (let row = 0; row < rows; row++) {
    if (
      !(split[row] instanceof Float32Array) ||
      split[row].length !== vocabSize ||
      vocabSize === 0
    ) {
      throw new SamplingError(
        'invalid_data',
        `${where}: row ${row} of the step result is not a Float32Array of ${vocabSize} logits`,
      );
    }
  }
  return split;
}
