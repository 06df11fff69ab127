// Prompt + completion batches for causal language models: token ids padded on the right, the
// attention mask, next-token labels and the completion-only mask every RLHF loss sums over.
//
// For a prompt [p0 p1] and completion [c0 c1] the row is ids = [p0 p1 c0 c1]; the model reads
// ids[:-1] = [p0 p1 c0] and predicts labels ids[1:] = [p1 c0 c1]; the completion mask over those
// labels is [0 1 1] (log pi(c0 | p0 p1) + log pi(c1 | p0 p1 c0)).
import { fromValues, type Module, narrow, type Tensor } from '@llmkit/core-tensor';
import { RlhfError } from './errors.js';
import { tokenLogProbs } from './log-probs.js';

/** What the trainers need from a tokenizer (a CharTokenizer or a Hugging Face tokenizer). */
export interface TextTokenizer {
  /** Text to token ids. */
  encode(text: string): number[];
  /** Token ids to text. */
  decode(ids: ArrayLike<number>): string;
}

/**
 * What the trainers need from a causal language model: @llmkit/transformer's GPT (or a PEFT
 * model wrapping one) fits.
 */
export interface CausalPolicy extends Module {
  /** Sizes of the model (`nEmbd`, the hidden width, is what PPO's value head reads). */
  readonly config: {
    readonly blockSize: number;
    readonly vocabSize: number;
    readonly nEmbd?: number;
  };
  /**
   * Next-token logits `[B, T, V]` of ids `[B, T]` (1 = real token, 0 = padding in the mask) and,
   * with `returnHiddenState`, the last hidden state `[B, T, nEmbd]` (after the final norm).
   */
  forward(
    inputIds: readonly (readonly number[])[],
    options?: { attentionMask?: readonly (readonly number[])[]; returnHiddenState?: boolean },
  ): { logits: Tensor; hiddenState?: Tensor };
  /** Sampling with @llmkit/sampling's loop: prompt plus new tokens per returned row. */
  generate(
    inputIds: readonly (readonly number[])[],
    options: Record<string, unknown>,
  ): Promise<number[][]>;
}

/** One prompt and one completion, as token ids. */
export interface CompletionRow {
  prompt: readonly number[];
  completion: readonly number[];
}

/** A right-padded batch of {@link CompletionRow}s. */
export interface CompletionBatch {
  /** `ids[:-1]` of each row, right-padded with 0: the model's input `[B, T]`. */
  inputIds: number[][];
  /** 1 on real input tokens, 0 on padding `[B, T]`. */
  attentionMask: number[][];
  /** Next-token labels `[B, T]` int32 (0 on padding). */
  labels: Tensor;
  /** 1 on completion labels, 0 on prompt and padding `[B, T]` float32. */
  completionMask: Tensor;
  /** Completion length of each row. */
  completionLengths: number[];
}

/**
 * Builds a {@link CompletionBatch}; throws `invalid_data` naming the row when a completion is
 * empty or a row does not fit `blockSize + 1` tokens.
 *
 * @example
 * ```ts
 * const batch = completionBatch([{ prompt: [1, 2], completion: [3, 4] }], 16);
 * batch.inputIds; // [[1, 2, 3]]; labels [[2, 3, 4]]; completionMask [[0, 1, 1]]
 * ```
 */
export function completionBatch(
  rows: readonly CompletionRow[],
  blockSize: number,
  describe: (row: number) => string = (row) => `row ${row}`,
): CompletionBatch {
  const lengths = rows.map((row, i) => {
    if (row.completion.length === 0)
      throw new RlhfError('invalid_data', `${describe(i)}: the completion is empty`);
    if (row.prompt.length === 0)
      throw new RlhfError(
        'invalid_data',
        `${describe(i)}: the prompt is empty (it needs at least one token to condition on)`,
      );
    const n = row.prompt.length + row.completion.length - 1;
    if (n > blockSize)
      throw new RlhfError(
        'invalid_data',
        `${describe(i)}: prompt + completion is ${n + 1} tokens; the model reads at most ${blockSize + 1} (blockSize ${blockSize} + 1)`,
      );
    return n;
  });
  const T = Math.max(...lengths);
  const B = rows.length;
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  const labels = new Int32Array(B * T);
  const mask = new Float32Array(B * T);
  rows.forEach((row, b) => {
    const ids = [...row.prompt, ...row.completion];
    const n = lengths[b];
    inputIds.push([...ids.slice(0, n), ...new Array(T - n).fill(0)]);
    attentionMask.push([...new Array(n).fill(1), ...new Array(T - n).fill(0)]);
    for (let t = 0; t < n; t++) {
      labels[b * T + t] = ids[t + 1];
      if (t + 1 >= row.prompt.length) mask[b * T + t] = 1;
    }
  });
  return {
    inputIds,
    attentionMask,
    labels: fromValues(labels, [B, T], { dtype: 'int32' }),
    completionMask: fromValues(mask, [B, T]),
    completionLengths: rows.map((row) => row.completion.length),
  };
}

/**
 * Per-token log-probabilities `[B, T]` of a batch's labels under `model` (zero them with the
 * batch's `completionMask`).
 *
 * @example
 * ```ts
 * const logProbs = batchTokenLogProbs(policy, completionBatch(rows, 64)); // [B, T]
 * ```
 */
export function batchTokenLogProbs(model: CausalPolicy, batch: CompletionBatch): Tensor {
  const { logits } = model.forward(batch.inputIds, { attentionMask: batch.attentionMask });
  const T = batch.inputIds[0].length;
  return tokenLogProbs(logits.shape[1] === T ? logits : narrow(logits, 1, 0, T), batch.labels);
}
