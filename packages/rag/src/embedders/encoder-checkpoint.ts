// An encoder embedder on disk: a folder with the model as an llmkit checkpoint (`model.safetensors`
// and `config.json`, written by @llmkit/transformer's `save`), the BPE tokenizer (`tokenizer.json`)
// and `embedder.json` (maxLength, normalize, padTokenId), written last so that a folder holding it
// is complete.
import { type Encoding, encodingFromJSON, encodingToJSON } from '@llmkit/tokenizer';
import { Encoder, load, save } from '@llmkit/transformer';
import { writeFileAtomic } from '@llmkit/utils';
import { RagError } from '../errors.js';
import { createEncoderEmbedder, type EncoderEmbedder } from './encoder-embedder.js';

const FORMAT = 'llmkit-encoder-embedder';

/** The `embedder.json` of a saved encoder embedder. */
export interface EncoderEmbedderFile {
  /** Always `llmkit-encoder-embedder`. */
  format: typeof FORMAT;
  /** Tokens kept per text. */
  maxLength: number;
  /** Whether vectors are scaled to unit length. */
  normalize: boolean;
  /** Id at padding positions. */
  padTokenId: number;
  /** Anything the trainer wants to remember (data, steps, final loss). */
  notes?: Record<string, unknown>;
}

/**
 * Saves an encoder embedder whose tokenizer is an llmkit `Encoding` (BPE) to `dir`, so that
 * {@link loadEncoderEmbedder} (and `llmkit rag index --embedder-checkpoint DIR`) can use it.
 *
 * @example
 * ```ts
 * await saveEncoderEmbedder('./my-embedder', embedder, { notes: { trainedOn: 'pairs.jsonl' } });
 * const again = await loadEncoderEmbedder('./my-embedder');
 * ```
 */
export async function saveEncoderEmbedder(
  dir: string,
  embedder: EncoderEmbedder,
  options: { padTokenId?: number; notes?: Record<string, unknown> } = {},
): Promise<void> {
  const tokenizer = embedder.tokenizer as Encoding;
  if (typeof tokenizer.mergeableRanks !== 'function') {
    throw new RagError(
      'invalid_argument',
      'saveEncoderEmbedder: the tokenizer must be an llmkit Encoding (from trainBpe or getEncoding) to be saved',
    );
  }
  const { join } = await import('node:path');
  await save(embedder.model, dir);
  await writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(encodingToJSON(tokenizer)));
  const file: EncoderEmbedderFile = {
    format: FORMAT,
    maxLength: embedder.maxLength,
    normalize: embedder.normalize,
    padTokenId: options.padTokenId ?? 0,
    ...(options.notes ? { notes: options.notes } : {}),
  };
  await writeFileAtomic(join(dir, 'embedder.json'), `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * Loads an encoder embedder saved by {@link saveEncoderEmbedder}. A folder without
 * `embedder.json`, or holding another kind of model, is an error that names the folder.
 *
 * @example
 * ```ts
 * const embedder = await loadEncoderEmbedder('./my-embedder', { batchSize: 64 });
 * const vectors = await embedder.embed(['what makes lift?']);
 * ```
 */
export async function loadEncoderEmbedder(
  dir: string,
  options: { batchSize?: number } = {},
): Promise<EncoderEmbedder & { notes?: Record<string, unknown> }> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  let file: EncoderEmbedderFile;
  try {
    file = JSON.parse(await fs.readFile(join(dir, 'embedder.json'), 'utf8'));
  } catch (error) {
    throw new RagError(
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'corrupt_file',
      `loadEncoderEmbedder: cannot read ${join(dir, 'embedder.json')} (${(error as Error).message}); expected a folder written by saveEncoderEmbedder`,
      { cause: error },
    );
  }
  if (file?.format !== FORMAT) {
    throw new RagError(
      'corrupt_file',
      `loadEncoderEmbedder: ${join(dir, 'embedder.json')} has format ${JSON.stringify(file?.format)}, expected "${FORMAT}"`,
    );
  }
  const tokenizer = encodingFromJSON(
    JSON.parse(await fs.readFile(join(dir, 'tokenizer.json'), 'utf8')),
  );
  const model = await load(dir);
  if (!(model instanceof Encoder)) {
    throw new RagError(
      'corrupt_file',
      `loadEncoderEmbedder: ${dir} holds a ${model.constructor.name}, expected an Encoder`,
    );
  }
  model.eval();
  const embedder = createEncoderEmbedder({
    model,
    tokenizer,
    maxLength: file.maxLength,
    normalize: file.normalize,
    padTokenId: file.padTokenId,
    batchSize: options.batchSize,
  });
  return file.notes ? Object.assign(embedder, { notes: file.notes }) : embedder;
}
