// Saving and loading a MeanPooledClassifier with its vocabulary: a folder with config.json
// (format marker, the model's configuration, caller metadata), model.safetensors and
// vocabulary.json (a CompactVocabulary, without its base tokenizer), written atomically.
import { loadSafetensors, writeSafetensors } from '@llmkit/core-tensor';
import { writeFolderAtomic } from '@llmkit/utils';
import { RlhfError } from '../errors.js';
import type { TextTokenizer } from '../sequences.js';
import { type ClassifierConfig, MeanPooledClassifier } from './classifier.js';
import { CompactVocabulary, type CompactVocabularyJson } from './vocabulary.js';

/** What {@link saveClassifier} writes to `config.json`. */
export interface SavedClassifierConfig {
  /** Format marker. */
  format: 'llmkit-rlhf-classifier';
  /** The model's configuration. */
  config: ClassifierConfig;
  /** Anything the caller wants kept beside it (labels, held-out accuracy, data). */
  metadata: Record<string, unknown>;
}

/**
 * Writes a classifier and its vocabulary to `dir` (config.json, model.safetensors,
 * vocabulary.json), atomically: readers see the old folder or the new one.
 *
 * @example
 * ```ts
 * await saveClassifier('/tmp/sentiment', model, vocabulary, { accuracy: 0.78 });
 * ```
 */
export async function saveClassifier(
  dir: string,
  model: MeanPooledClassifier,
  vocabulary: CompactVocabulary,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const config: SavedClassifierConfig = {
    format: 'llmkit-rlhf-classifier',
    config: model.config,
    metadata,
  };
  await writeFolderAtomic(dir, {
    'config.json': `${JSON.stringify(config, null, 2)}\n`,
    'model.safetensors': await writeSafetensors(model.stateDict()),
    'vocabulary.json': JSON.stringify(vocabulary.toJSON()),
  });
}

/**
 * Reads a classifier written by {@link saveClassifier}; `base` is the tokenizer its vocabulary
 * was built over (e.g. `getEncoding('gpt2')`). The model is in eval mode.
 *
 * @example
 * ```ts
 * const { model, vocabulary, metadata } = await loadClassifier('/tmp/sentiment', getEncoding('gpt2'));
 * ```
 */
export async function loadClassifier(
  dir: string,
  base: TextTokenizer,
): Promise<{
  model: MeanPooledClassifier;
  vocabulary: CompactVocabulary;
  metadata: Record<string, unknown>;
}> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const saved = JSON.parse(
    await readFile(join(dir, 'config.json'), 'utf8'),
  ) as SavedClassifierConfig;
  if (saved?.format !== 'llmkit-rlhf-classifier')
    throw new RlhfError(
      'corrupt_file',
      `loadClassifier: ${join(dir, 'config.json')} has format ${JSON.stringify(saved?.format)}; expected "llmkit-rlhf-classifier"`,
    );
  const vocabulary = CompactVocabulary.fromJSON(
    base,
    JSON.parse(await readFile(join(dir, 'vocabulary.json'), 'utf8')) as CompactVocabularyJson,
  );
  if (vocabulary.vocabSize !== saved.config.vocabSize)
    throw new RlhfError(
      'corrupt_file',
      `loadClassifier: ${dir}: the vocabulary has ${vocabulary.vocabSize} ids, the model ${saved.config.vocabSize}`,
    );
  const model = new MeanPooledClassifier(saved.config);
  const weights = await loadSafetensors(join(dir, 'model.safetensors'));
  model.loadStateDict(weights);
  for (const t of Object.values(weights)) t.dispose();
  model.eval();
  return { model, vocabulary, metadata: saved.metadata ?? {} };
}
