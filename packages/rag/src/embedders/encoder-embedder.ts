// An embedder over an llmkit `Encoder` (BERT-style, from @llmkit/transformer): texts are tokenized,
// cut to `maxLength`, grouped by length into padded batches, encoded, and mean-pooled over their
// real tokens (the attention mask keeps padding out of both attention and the mean), then scaled to
// unit length. Sentence-BERT's recipe (Reimers and Gurevych, 2019).
import { noGrad } from '@llmkit/core-tensor';
import { type Encoder, meanPooledEmbeddings } from '@llmkit/transformer';
import { RagError } from '../errors.js';
import { Pacer, type LongOperationOptions } from '../progress.js';
import type { Embedder } from './embedder.js';

/** Turns text into token ids; an llmkit `Encoding` (e.g. from `trainBpe`) fits. */
export interface EmbedderTokenizer {
  /** Token ids of a text. */
  encode(text: string): ArrayLike<number>;
  /** Token ids with special-token markers read as plain text; used instead of `encode` when present. */
  encodeOrdinary?(text: string): ArrayLike<number>;
}

/** Options of {@link createEncoderEmbedder}. */
export interface EncoderEmbedderOptions {
  /** The encoder; its token vectors are averaged. It is switched to evaluation mode while embedding. */
  model: Encoder;
  /** Turns texts into ids below the model's `vocabSize`. */
  tokenizer: EmbedderTokenizer;
  /** Tokens kept per text (longer texts are cut). Default and maximum: the model's `blockSize`. */
  maxLength?: number;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
  /** Scale every vector to unit length (for cosine or dot-product search). Default true. */
  normalize?: boolean;
  /** Id written at padding positions (masked out, so any valid id gives the same vectors). Default 0. */
  padTokenId?: number;
}

/** An {@link Embedder} backed by an llmkit encoder; {@link createEncoderEmbedder} makes one. */
export interface EncoderEmbedder extends Embedder {
  /** The vector length: the model's `nEmbd`. */
  readonly dimension: number;
  /** The encoder. */
  readonly model: Encoder;
  /** Its tokenizer. */
  readonly tokenizer: EmbedderTokenizer;
  /** Tokens kept per text. */
  readonly maxLength: number;
  /** Whether vectors have unit length. */
  readonly normalize: boolean;
  /** Token ids of a text as the embedder sees them: tokenized and cut to `maxLength`. */
  tokenize(text: string): number[];
}

/** Token ids of `text`, cut to `maxLength`; an empty text becomes one padding token. */
export function tokenizeForEncoder(
  tokenizer: EmbedderTokenizer,
  text: string,
  maxLength: number,
  padTokenId: number,
  vocabSize: number,
): number[] {
  if (typeof text !== 'string') {
    throw new RagError('invalid_data', `embed: expected texts to be strings, got ${typeof text}`);
  }
  const ids = Array.from(
    tokenizer.encodeOrdinary ? tokenizer.encodeOrdinary(text) : tokenizer.encode(text),
  ).slice(0, maxLength);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new RagError(
        'invalid_data',
        `embed: the tokenizer gave id ${id} for ${JSON.stringify(text.slice(0, 40))}, expected an integer in [0, ${vocabSize}) (the model's vocabSize)`,
      );
    }
  }
  return ids.length > 0 ? ids : [padTokenId];
}

/** Pads rows of ids to one length; returns the ids and the 0/1 attention mask. */
export function padBatch(
  rows: readonly (readonly number[])[],
  padTokenId: number,
): { ids: number[][]; mask: number[][] } {
  const length = Math.max(...rows.map((row) => row.length));
  return {
    ids: rows.map((row) => [...row, ...new Array<number>(length - row.length).fill(padTokenId)]),
    mask: rows.map((row) => [
      ...new Array<number>(row.length).fill(1),
      ...new Array<number>(length - row.length).fill(0),
    ]),
  };
}

/** Checks `maxLength` and `padTokenId` against the model; returns the resolved maxLength. */
export function checkEncoderOptions(
  where: string,
  model: Encoder,
  maxLength: number | undefined,
  padTokenId: number,
): number {
  const { blockSize, vocabSize } = model.config;
  const length = maxLength ?? blockSize;
  if (!Number.isInteger(length) || length < 1 || length > blockSize) {
    throw new RagError(
      'invalid_config',
      `${where}: maxLength is ${maxLength}, expected an integer in [1, ${blockSize}] (the model's blockSize)`,
    );
  }
  if (!Number.isInteger(padTokenId) || padTokenId < 0 || padTokenId >= vocabSize) {
    throw new RagError(
      'invalid_config',
      `${where}: padTokenId is ${padTokenId}, expected an integer in [0, ${vocabSize})`,
    );
  }
  return length;
}

/**
 * Creates an embedder that mean-pools an llmkit `Encoder`'s token vectors over each text's real
 * tokens. Texts are batched by length, so a batch pads little; the result does not depend on the
 * batch (up to float rounding). Import it from `@llmkit/rag/encoder` (it needs
 * `@llmkit/transformer` and `@llmkit/core-tensor` installed).
 *
 * @example
 * ```ts
 * import { manualSeed } from '@llmkit/core-tensor';
 * import { trainBpe } from '@llmkit/tokenizer';
 * import { Encoder } from '@llmkit/transformer';
 * import { createEncoderEmbedder } from '@llmkit/rag/encoder';
 *
 * const tokenizer = trainBpe(corpusText, { vocabSize: 1000 });
 * manualSeed(0);
 * const model = new Encoder({ vocabSize: 1000, blockSize: 128, nLayer: 2, nHead: 4, nEmbd: 64 });
 * const embedder = createEncoderEmbedder({ model, tokenizer });
 * const [a, b] = await embedder.embed(['wing lift', 'lift of a wing']); // Float32Array(64) each, unit length
 * ```
 */
export function createEncoderEmbedder(options: EncoderEmbedderOptions): EncoderEmbedder {
  const { model, tokenizer } = options;
  if (!model || typeof model.forward !== 'function' || !model.config) {
    throw new RagError(
      'invalid_config',
      'createEncoderEmbedder: model must be an Encoder from @llmkit/transformer',
    );
  }
  if (!tokenizer || typeof tokenizer.encode !== 'function') {
    throw new RagError(
      'invalid_config',
      'createEncoderEmbedder: tokenizer must have encode(text) (an llmkit Encoding fits)',
    );
  }
  const padTokenId = options.padTokenId ?? 0;
  const maxLength = checkEncoderOptions(
    'createEncoderEmbedder',
    model,
    options.maxLength,
    padTokenId,
  );
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RagError(
      'invalid_config',
      `createEncoderEmbedder: batchSize is ${batchSize}, expected an integer >= 1`,
    );
  }
  const normalize = options.normalize ?? true;
  const tokenize = (text: string) =>
    tokenizeForEncoder(tokenizer, text, maxLength, padTokenId, model.config.vocabSize);

  return {
    dimension: model.config.nEmbd,
    model,
    tokenizer,
    maxLength,
    normalize,
    tokenize,
    async embed(texts: string[], operation: LongOperationOptions = {}): Promise<Float32Array[]> {
      if (!Array.isArray(texts)) {
        throw new RagError(
          'invalid_data',
          `embed: expected an array of texts, got ${typeof texts}`,
        );
      }
      const pacer = new Pacer('embed', texts.length, operation, 0);
      const rows = texts.map(tokenize);
      // longest first, so each batch holds texts of similar length (little padding)
      const order = rows.map((_, i) => i).sort((a, b) => rows[b].length - rows[a].length || a - b);
      const out: Float32Array[] = new Array(texts.length);
      const wasTraining = model.training;
      model.eval();
      try {
        let done = 0;
        for (let start = 0; start < order.length; start += batchSize) {
          const members = order.slice(start, start + batchSize);
          const { ids, mask } = padBatch(
            members.map((i) => rows[i]),
            padTokenId,
          );
          const pooled = noGrad(() =>
            meanPooledEmbeddings(model, ids, { attentionMask: mask, normalize }),
          );
          const values = (await pooled.data<Float32Array>()).slice();
          pooled.dispose();
          const dimension = model.config.nEmbd;
          members.forEach((i, row) => {
            out[i] = values.slice(row * dimension, (row + 1) * dimension);
          });
          done += members.length;
          await pacer.tick(done);
        }
      } finally {
        model.train(wasTraining);
      }
      pacer.finish();
      return out;
    },
  };
}
