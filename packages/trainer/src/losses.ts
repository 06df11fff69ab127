import { crossEntropy, type Module, Tensor, tensor } from '@llmkit/core-tensor';
import { IGNORE_INDEX } from './data/examples.js';
import type { LanguageModelBatch } from './data/token-windows.js';

/**
 * A model that maps token ids `[B, T]` to logits `[B, T, V]`: either directly, or inside an
 * object with a `logits` field as llmkit's GPT returns. A model that takes `targets` and
 * `returnLogits: false` (llmkit's GPT) returns the loss itself, computed from its head a chunk
 * of rows at a time, without the `[B, T, V]` logits.
 */
export interface LanguageModel extends Module {
  /** Logits for each position (or the loss, given targets and `returnLogits: false`). */
  forward(
    inputIds: Tensor,
    options?: { attentionMask?: Tensor; targets?: Tensor; returnLogits?: boolean },
  ): Tensor | { logits?: Tensor; loss?: Tensor };
}

/**
 * Next-token cross-entropy, mean over every target that is not IGNORE_INDEX: the loss of
 * pretraining (all tokens count) and of instruction tuning (only response tokens count).
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ model, loss: causalLanguageModelLoss, data, config: { maxSteps: 100 } });
 * ```
 */
export function causalLanguageModelLoss(
  model: Module,
  batch: LanguageModelBatch & { attentionMask?: Int32Array },
): Tensor {
  const { batchSize: B, blockSize: T } = batch;
  const inputs = tensor(batch.inputs, { shape: [B, T], dtype: 'int32' });
  const targets = tensor(batch.targets, { shape: [B * T], dtype: 'int32' });
  const attentionMask = batch.attentionMask
    ? tensor(batch.attentionMask, { shape: [B, T], dtype: 'int32' })
    : undefined;
  const output = (model as LanguageModel).forward(inputs, {
    ...(attentionMask ? { attentionMask } : {}),
    targets: targets.reshape([B, T]),
    returnLogits: false,
  });
  // GPT's loss: the mean over targets that are not -100 (IGNORE_INDEX), as below
  if (!(output instanceof Tensor) && output.loss) return output.loss;
  const logits = output instanceof Tensor ? output : (output.logits as Tensor);
  const V = logits.shape[logits.rank - 1];
  return crossEntropy(logits.reshape([B * T, V]), targets, { ignoreIndex: IGNORE_INDEX });
}

/** Tokens that count towards the loss in a batch (for throughput). */
export function countTargets(batch: LanguageModelBatch): number {
  let n = 0;
  for (let i = 0; i < batch.targets.length; i++) if (batch.targets[i] !== IGNORE_INDEX) n++;
  return n;
}
