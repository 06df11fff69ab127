import { crossEntropy, type Module, type Tensor, tensor } from '@llmkit/core-tensor';
import { IGNORE_INDEX } from './data/examples.js';
import type { LanguageModelBatch } from './data/token-windows.js';

/**
 * A model that maps token ids `[B, T]` to logits `[B, T, V]`: either directly, or inside an
 * object with a `logits` field as llmkit's GPT returns.
 */
export interface LanguageModel extends Module {
  /** Logits for each position. */
  forward(inputIds: Tensor, options?: { attentionMask?: Tensor }): Tensor | { logits: Tensor };
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
  const output = (model as LanguageModel).forward(
    inputs,
    attentionMask ? { attentionMask } : undefined,
  );
  const logits: Tensor = 'logits' in output ? output.logits : output;
  const V = logits.shape[logits.rank - 1];
  return crossEntropy(logits.reshape([B * T, V]), targets, { ignoreIndex: IGNORE_INDEX });
}

/** Tokens that count towards the loss in a batch (for throughput). */
export function countTargets(batch: LanguageModelBatch): number {
  let n = 0;
  for (let i = 0; i < batch.targets.length; i++) if (batch.targets[i] !== IGNORE_INDEX) n++;
  return n;
}
