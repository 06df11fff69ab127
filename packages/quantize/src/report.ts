// Size and quality of a quantization: bytes of the weights before and after, and the
// validation loss and perplexity of a language model before and after on given token ids.
import { DTYPE_BYTES, type Module, noGrad, tidy } from '@llmkit/core-tensor';
import type { GPT } from '@llmkit/transformer';
import { checkNumber } from '@llmkit/utils';
import { QuantizeError } from './errors.js';
import { type QuantizeModelOptions, type QuantizeModelResult, quantizeModel } from './model.js';

/**
 * Bytes of a model's tensors (parameters and buffers, each tensor once): what its weights take.
 *
 * @example
 * ```ts
 * weightBytes(new Linear(4, 2)); // 40 (8 + 2 float32)
 * ```
 */
export function weightBytes(model: Module): number {
  const seen = new Set<unknown>();
  let bytes = 0;
  for (const t of Object.values(model.stateDict())) {
    if (seen.has(t)) continue;
    seen.add(t);
    bytes += t.size * DTYPE_BYTES[t.dtype];
  }
  return bytes;
}

/** Options of {@link evaluateLoss}. */
export interface EvaluateLossOptions {
  /** Tokens per window (default the model's blockSize). */
  sequenceLength?: number;
  /** Windows per forward pass (default 8). */
  batchSize?: number;
}

/**
 * Mean next-token cross-entropy (nats per token) of a GPT over all of `tokens`, cut into
 * consecutive windows of `sequenceLength` + 1 (each predicts its own next tokens), as nanoGPT's
 * evaluation over a whole split; the last, shorter window counts too.
 *
 * @example
 * ```ts
 * const loss = evaluateLoss(model, validationIds); // e.g. 1.47; perplexity Math.exp(loss)
 * ```
 */
export function evaluateLoss(
  model: GPT,
  tokens: readonly number[],
  options: EvaluateLossOptions = {},
): number {
  const T = checkNumber(
    'evaluateLoss',
    'sequenceLength',
    options.sequenceLength ?? model.config.blockSize,
    { min: 1, integer: true },
  );
  const B = checkNumber('evaluateLoss', 'batchSize', options.batchSize ?? 8, {
    min: 1,
    integer: true,
  });
  if (tokens.length < 2)
    throw new QuantizeError(
      'invalid_argument',
      `evaluateLoss: need at least 2 tokens, got ${tokens.length}`,
    );
  const windows: number[][] = [];
  for (let start = 0; start + 1 < tokens.length; start += T)
    windows.push(tokens.slice(start, Math.min(tokens.length, start + T + 1)) as number[]);
  let total = 0;
  let count = 0;
  const wasTraining = model.training;
  model.eval();
  for (let i = 0; i < windows.length; i += B) {
    // Windows of one batch share a length: the full ones together, the short tail alone.
    const batch = windows.slice(i, i + B).filter((w) => w.length === windows[i].length);
    const rest = windows.slice(i, i + B).filter((w) => w.length !== windows[i].length);
    for (const group of [batch, rest]) {
      if (!group.length) continue;
      const n = group[0].length - 1;
      const loss = tidy(() =>
        noGrad(() =>
          model
            .forward(
              group.map((w) => w.slice(0, n)),
              { targets: group.map((w) => w.slice(1)) },
            )
            .loss?.item(),
        ),
      ) as number;
      total += loss * n * group.length;
      count += n * group.length;
    }
  }
  model.train(wasTraining);
  return total / count;
}

/** What {@link quantizeWithReport} measured. */
export interface QualityReport {
  /** The layers replaced and the options. */
  quantization: QuantizeModelResult;
  /** Bytes of all the model's tensors before (float). */
  bytesBefore: number;
  /** Bytes after (packed layers plus what stayed float). */
  bytesAfter: number;
  /** Bytes of the quantized layers' weights before (float32) and after (packed). */
  layerBytesBefore: number;
  /** Packed bytes of those layers. */
  layerBytesAfter: number;
  /** Validation loss (nats per token) before and after, when tokens were given. */
  lossBefore?: number;
  /** Loss after quantization. */
  lossAfter?: number;
  /** exp(loss) before. */
  perplexityBefore?: number;
  /** exp(loss) after. */
  perplexityAfter?: number;
  /** Perplexity change in percent: 100 (after / before - 1). */
  perplexityChangePercent?: number;
}

/**
 * Quantizes `model` in place and reports sizes and, given validation tokens, the loss and
 * perplexity before and after.
 *
 * @example
 * ```ts
 * const report = quantizeWithReport(model, { format: 'int8' }, { tokens: validationIds });
 * console.log(report.perplexityBefore, report.perplexityAfter); // 4.36 4.37
 * ```
 */
export function quantizeWithReport(
  model: GPT,
  options: QuantizeModelOptions,
  evaluation: { tokens?: readonly number[] } & EvaluateLossOptions = {},
): QualityReport {
  const { tokens, ...lossOptions } = evaluation;
  const bytesBefore = weightBytes(model);
  const lossBefore = tokens ? evaluateLoss(model, tokens, lossOptions) : undefined;
  const quantization = quantizeModel(model, options);
  const report: QualityReport = {
    quantization,
    bytesBefore,
    bytesAfter: weightBytes(model),
    layerBytesBefore: quantization.layers.reduce((s, l) => s + l.floatBytes, 0),
    layerBytesAfter: quantization.layers.reduce((s, l) => s + l.packedBytes, 0),
  };
  if (tokens && lossBefore !== undefined) {
    const lossAfter = evaluateLoss(model, tokens, lossOptions);
    Object.assign(report, {
      lossBefore,
      lossAfter,
      perplexityBefore: Math.exp(lossBefore),
      perplexityAfter: Math.exp(lossAfter),
      perplexityChangePercent: 100 * (Math.exp(lossAfter - lossBefore) - 1),
    });
  }
  return report;
}
