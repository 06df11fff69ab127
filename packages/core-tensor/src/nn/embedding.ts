import { type DType, isHalfDType } from '../dtype.js';
import { toStorage } from './storage.js';
import { zeros } from '../ops/creation.js';
import { embedding } from '../ops/indexing.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { normal } from './init.js';
import { Module } from './module.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /**
   * Table dtype (default float32). `bfloat16` / `float16` keep the table in 16 bits, frozen;
   * lookups give float32 rows.
   */
  dtype?: DType;
  /** Standard deviation of the initial weights (default 1, like PyTorch; GPT-2 uses 0.02). */
  std?: number;
  /** Generator for the initial weights. */
  generator?: Generator;
}

/**
 * A lookup table `weight [numEmbeddings, embeddingDim]` indexed by int32 ids.
 *
 * @example
 * ```ts
 * const wte = new Embedding(50257, 768, { std: 0.02 });
 * wte.forward(ids); // ids [B, T] -> [B, T, 768]
 * ```
 */
export class Embedding extends Module {
  /** `[numEmbeddings, embeddingDim]`. */
  readonly weight: Tensor;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    const dtype = options.dtype ?? 'float32';
    const weight = normal(zeros([numEmbeddings, embeddingDim]), 0, options.std ?? 1, options);
    this.weight = this.addParameter(
      'weight',
      isHalfDType(dtype) ? toStorage(weight, dtype) : weight,
    );
  }

  /** int32 ids of any shape -> `[...ids.shape, embeddingDim]`. */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}
