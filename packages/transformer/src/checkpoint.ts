// llmkit checkpoints: a folder with `model.safetensors` (the state dict, names as `stateDict()`)
// and `config.json` (`{ format, architecture, config }`). Each file is written atomically, weights
// first, so a folder whose config.json exists is complete.
import {
  dispose,
  loadSafetensors,
  noGrad,
  saveSafetensors,
  withoutInit,
} from '@llmkit/core-tensor';
import { writeFileAtomic } from '@llmkit/utils';
import { EncoderDecoder } from './encoder-decoder/model.js';
import { EncoderForMaskedLM, EncoderForSequenceClassification } from './encoder/heads.js';
import { Encoder } from './encoder/model.js';
import { readFailureCode, TransformerError } from './errors.js';
import { GPT } from './gpt/model.js';

/** A model that {@link save} and {@link load} handle. */
export type TransformerModel =
  | GPT
  | Encoder
  | EncoderForMaskedLM
  | EncoderForSequenceClassification
  | EncoderDecoder;

/** The `config.json` of an llmkit checkpoint. */
export interface CheckpointConfig {
  /** Always `llmkit-transformer`. */
  format: 'llmkit-transformer';
  /** Which class to rebuild. */
  architecture:
    | 'gpt'
    | 'encoder'
    | 'encoder-masked-lm'
    | 'encoder-classification'
    | 'encoder-decoder';
  /** The model's resolved config. */
  config: Record<string, unknown>;
  /** Classification heads: the number of labels. */
  numLabels?: number;
}

/**
 * The architecture and config of a model, as config.json records it (`where` names the caller
 * in the error for anything that is not a transformer model).
 *
 * @example
 * ```ts
 * describeModel(new GPT(config)).architecture; // 'gpt'
 * ```
 */
export function describeModel(model: TransformerModel, where = 'save'): CheckpointConfig {
  const base = { format: 'llmkit-transformer' as const };
  if (model instanceof GPT) return { ...base, architecture: 'gpt', config: { ...model.config } };
  if (model instanceof EncoderForMaskedLM)
    return { ...base, architecture: 'encoder-masked-lm', config: { ...model.bert.config } };
  if (model instanceof EncoderForSequenceClassification) {
    return {
      ...base,
      architecture: 'encoder-classification',
      config: { ...model.bert.config },
      numLabels: model.numLabels,
    };
  }
  if (model instanceof Encoder)
    return { ...base, architecture: 'encoder', config: { ...model.config } };
  if (model instanceof EncoderDecoder)
    return { ...base, architecture: 'encoder-decoder', config: { ...model.config } };
  throw new TransformerError(
    'unsupported',
    `${where}: expected a GPT, Encoder, Encoder head or EncoderDecoder`,
  );
}

/**
 * Saves a model to `dir` (created if needed): `model.safetensors` then `config.json`, each atomic.
 *
 * @example
 * ```ts
 * await save(model, './checkpoints/step-1000');
 * const again = await load('./checkpoints/step-1000');
 * ```
 */
export async function save(model: TransformerModel, dir: string): Promise<void> {
  const description = describeModel(model);
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  await saveSafetensors(join(dir, 'model.safetensors'), model.stateDict(), { format: 'llmkit' });
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(description, null, 2)}\n`);
}

/** Rebuilds a model from its checkpoint config (no weights loaded). */
export function modelFromCheckpointConfig(description: CheckpointConfig): TransformerModel {
  const config = description.config as never;
  switch (description.architecture) {
    case 'gpt':
      return new GPT(config);
    case 'encoder':
      return new Encoder(config);
    case 'encoder-masked-lm':
      return new EncoderForMaskedLM(config);
    case 'encoder-classification':
      return new EncoderForSequenceClassification(config, description.numLabels ?? 0);
    case 'encoder-decoder':
      return new EncoderDecoder(config);
    default:
      throw new TransformerError(
        'unsupported',
        `load: unknown architecture ${JSON.stringify(description.architecture)}`,
      );
  }
}

/**
 * Loads a checkpoint written by {@link save}, rebuilding the right class. A weights file that does
 * not match the config gets one error listing missing, unexpected and mis-shaped keys.
 */
export async function load(
  dir: string,
  options: { backend?: string } = {},
): Promise<TransformerModel> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  let description: CheckpointConfig;
  try {
    description = JSON.parse(await fs.readFile(join(dir, 'config.json'), 'utf8'));
  } catch (error) {
    throw new TransformerError(
      readFailureCode(error),
      `load: cannot read ${join(dir, 'config.json')}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (description?.format !== 'llmkit-transformer') {
    throw new TransformerError(
      'corrupt_file',
      `load: ${join(dir, 'config.json')} has format ${JSON.stringify(description?.format)}, expected "llmkit-transformer" (Hugging Face folders load with loadPretrained)`,
    );
  }
  // The weights are loaded next: skip drawing initial values.
  const model = withoutInit(() => modelFromCheckpointConfig(description));
  const tensors = await loadSafetensors(join(dir, 'model.safetensors'), options);
  try {
    noGrad(() => model.loadStateDict(tensors));
  } catch (error) {
    model.dispose();
    throw new TransformerError('corrupt_file', `load: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    dispose(Object.values(tensors));
  }
  return model;
}
