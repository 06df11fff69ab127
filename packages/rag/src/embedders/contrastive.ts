// Contrastive training of an encoder embedder on (query, positive) pairs with in-batch negatives:
// every other positive in the batch is a negative for a query. The loss is InfoNCE (van den Oord
// et al., 2018), as sentence-transformers' MultipleNegativesRankingLoss: cross-entropy over the
// cosine similarities divided by a temperature, the matching positive being the right class.
import {
  AdamW,
  clipGradNorm,
  crossEntropy,
  div,
  fromValues,
  Generator,
  keep,
  matmul,
  narrow,
  type Tensor,
  tidy,
  transpose,
} from '@llmkit/core-tensor';
import { type Encoder, meanPooledEmbeddings } from '@llmkit/transformer';
import { RagError } from '../errors.js';
import { Pacer, type LongOperationOptions } from '../progress.js';
import {
  checkEncoderOptions,
  type EmbedderTokenizer,
  padBatch,
  tokenizeForEncoder,
} from './encoder-embedder.js';

/** A training example: a query and a text that answers it. */
export interface ContrastivePair {
  /** The query (a question, a title, a paraphrase). */
  query: string;
  /** A text relevant to it; the other pairs' positives in its batch are its negatives. */
  positive: string;
}

/** Options of {@link infoNceLoss}. */
export interface InfoNceOptions {
  /** Similarities are divided by it before the softmax. Default 0.05 (a scale of 20, as sentence-transformers). */
  temperature?: number;
  /** Also score each positive against every query, and average both directions. Default false. */
  symmetric?: boolean;
}

/**
 * InfoNCE with in-batch negatives: `queries [B, D]` and `positives [B, D]` (row i of each is a
 * pair; unit-length rows make the scores cosine similarities), loss = mean over i of
 * `-log softmax(queries · positivesᵀ / temperature)[i, i]`.
 *
 * @example
 * ```ts
 * const loss = infoNceLoss(queryVectors, positiveVectors, { temperature: 0.05 });
 * loss.backward();
 * ```
 */
export function infoNceLoss(
  queries: Tensor,
  positives: Tensor,
  options: InfoNceOptions = {},
): Tensor {
  const temperature = options.temperature ?? 0.05;
  if (!(temperature > 0)) {
    throw new RagError(
      'invalid_config',
      `infoNceLoss: temperature is ${temperature}, expected > 0`,
    );
  }
  if (
    queries.rank !== 2 ||
    positives.rank !== 2 ||
    queries.shape[0] !== positives.shape[0] ||
    queries.shape[1] !== positives.shape[1]
  ) {
    throw new RagError(
      'dimension_mismatch',
      `infoNceLoss: queries are [${queries.shape}] and positives [${positives.shape}], expected two [batch, dimension] tensors of one shape`,
    );
  }
  const batch = queries.shape[0];
  return tidy(() => {
    const scores = div(matmul(queries, transpose(positives)), temperature); // [B, B]
    const labels = fromValues(
      Int32Array.from({ length: batch }, (_, i) => i),
      [batch],
      {
        dtype: 'int32',
        backend: scores.backend.name,
      },
    );
    const forward = crossEntropy(scores, labels);
    if (!options.symmetric) return forward;
    return div(forward.add(crossEntropy(transpose(scores), labels)), 2);
  });
}

/** Options of {@link trainContrastive}. */
export interface TrainContrastiveOptions extends InfoNceOptions, LongOperationOptions {
  /** Tokenizes queries and positives, as the embedder will. */
  tokenizer: EmbedderTokenizer;
  /** Passes over the pairs. Default 1. */
  epochs?: number;
  /** Pairs per step (each brings batchSize - 1 negatives). Default 32; at least 2. */
  batchSize?: number;
  /** AdamW learning rate. Default 1e-3. */
  learningRate?: number;
  /** AdamW decoupled weight decay of matrices (vectors get none). Default 0.01. */
  weightDecay?: number;
  /** Clip the gradient's global norm to this (0: no clipping). Default 1. */
  maxGradNorm?: number;
  /** Tokens kept per text. Default: the model's blockSize. */
  maxLength?: number;
  /** Id at padding positions. Default 0. */
  padTokenId?: number;
  /** Seed of the shuffling of pairs. Default 0 (the model's initialisation is seeded by `manualSeed`). */
  seed?: number;
  /** Called after every step with its loss. */
  onStep?: (step: number, loss: number) => void;
}

/** What {@link trainContrastive} returns. */
export interface TrainContrastiveResult {
  /** The loss of every step, in order. */
  losses: number[];
  /** Optimizer steps taken. */
  steps: number;
}

/**
 * Fine-tunes an `Encoder` so that mean-pooled, unit-length embeddings of each query and its
 * positive are close and other positives in the batch are far (InfoNCE, in-batch negatives),
 * with AdamW. Progress counts steps. The model is left in evaluation mode.
 *
 * @example
 * ```ts
 * import { trainContrastive, createEncoderEmbedder } from '@llmkit/rag/encoder';
 * const pairs = [{ query: 'what makes lift', positive: 'Wings make lift when air flows fast.' }, ...];
 * const { losses } = await trainContrastive(model, pairs, { tokenizer, epochs: 3, batchSize: 32 });
 * const embedder = createEncoderEmbedder({ model, tokenizer });
 * ```
 */
export async function trainContrastive(
  model: Encoder,
  pairs: readonly ContrastivePair[],
  options: TrainContrastiveOptions,
): Promise<TrainContrastiveResult> {
  const where = 'trainContrastive';
  if (!options?.tokenizer || typeof options.tokenizer.encode !== 'function') {
    throw new RagError(
      'invalid_config',
      `${where}: options.tokenizer with encode(text) is required`,
    );
  }
  const padTokenId = options.padTokenId ?? 0;
  const maxLength = checkEncoderOptions(where, model, options.maxLength, padTokenId);
  const batchSize = options.batchSize ?? 32;
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 2) {
    throw new RagError(
      'invalid_config',
      `${where}: batchSize is ${batchSize}, expected an integer >= 2 (in-batch negatives need two pairs)`,
    );
  }
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new RagError('invalid_config', `${where}: epochs is ${epochs}, expected an integer >= 1`);
  }
  if (!Array.isArray(pairs) || pairs.length < 2) {
    throw new RagError(
      'invalid_data',
      `${where}: got ${Array.isArray(pairs) ? pairs.length : typeof pairs} pairs, expected an array of at least 2 { query, positive }`,
    );
  }
  pairs.forEach((pair, i) => {
    if (typeof pair?.query !== 'string' || typeof pair?.positive !== 'string') {
      throw new RagError(
        'invalid_data',
        `${where}: pair ${i} is ${JSON.stringify(pair)?.slice(0, 80)}, expected { query: string, positive: string }`,
      );
    }
  });
  const tokenize = (text: string) =>
    tokenizeForEncoder(options.tokenizer, text, maxLength, padTokenId, model.config.vocabSize);
  const queries = pairs.map((p) => tokenize(p.query));
  const positives = pairs.map((p) => tokenize(p.positive));

  const parameters = model.parameters();
  const optimizer = new AdamW(
    [
      { params: parameters.filter((p) => p.rank >= 2), weightDecay: options.weightDecay ?? 0.01 },
      { params: parameters.filter((p) => p.rank < 2), weightDecay: 0 },
    ],
    { lr: options.learningRate ?? 1e-3 },
  );
  const maxGradNorm = options.maxGradNorm ?? 1;
  const generator = new Generator(options.seed ?? 0);
  const stepsPerEpoch =
    Math.floor(pairs.length / batchSize) + (pairs.length % batchSize >= 2 ? 1 : 0);
  const total = stepsPerEpoch * epochs;
  const pacer = new Pacer(where, total, options, 0);
  const losses: number[] = [];
  const order = pairs.map((_, i) => i);
  model.train();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = generator.nextInt(0, i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let start = 0; start + 2 <= order.length; start += batchSize) {
        const members = order.slice(start, start + batchSize);
        const value = tidy(() => {
          const loss = contrastiveBatchLoss(
            model,
            members.map((m) => queries[m]),
            members.map((m) => positives[m]),
            padTokenId,
            options,
          );
          loss.backward();
          return keep(loss.detach());
        });
        const lossValue = (await value.data())[0];
        value.dispose();
        if (!Number.isFinite(lossValue)) {
          optimizer.zeroGrad();
          throw new RagError(
            'non_finite_loss',
            `${where}: loss is ${lossValue} at step ${losses.length + 1}; try a lower learningRate or a higher temperature`,
          );
        }
        if (maxGradNorm > 0) tidy(() => clipGradNorm(parameters, maxGradNorm)).dispose();
        optimizer.step();
        optimizer.zeroGrad();
        losses.push(lossValue);
        options.onStep?.(losses.length, lossValue);
        await pacer.tick(losses.length);
      }
    }
  } finally {
    optimizer.zeroGrad();
    model.eval();
  }
  pacer.finish();
  return { losses, steps: losses.length };
}

/**
 * The InfoNCE loss of one batch: queries and positives (token ids, unpadded) are encoded in one
 * forward pass, mean-pooled to unit length, and scored against each other.
 */
export function contrastiveBatchLoss(
  model: Encoder,
  queryIds: readonly (readonly number[])[],
  positiveIds: readonly (readonly number[])[],
  padTokenId = 0,
  options: InfoNceOptions = {},
): Tensor {
  const batch = queryIds.length;
  const { ids, mask } = padBatch([...queryIds, ...positiveIds], padTokenId);
  return tidy(() => {
    const vectors = meanPooledEmbeddings(model, ids, { attentionMask: mask, normalize: true });
    return infoNceLoss(narrow(vectors, 0, 0, batch), narrow(vectors, 0, batch, batch), options);
  });
}
