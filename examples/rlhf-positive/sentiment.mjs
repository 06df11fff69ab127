// The sentiment reward of the worked example: a MeanPooledClassifier (@llmkit/rlhf) over GPT-2's
// tokens (@llmkit/tokenizer's `gpt2` encoding, mapped to a compact vocabulary of the tokens seen
// in training; texts lower-cased) trained on the Amazon, IMDb and Yelp sentences of UCI's
// "Sentiment Labelled Sentences" (3 x 1,000 `sentence<TAB>label`, label 1 = positive). 500 sentences are held out for the
// accuracy. The trained classifier is cached under os.tmpdir() (keyed by its settings and the
// data's sizes), so the example and `pnpm bench rlhf` train it once (about 30 s on 2 cores).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, manualSeed } from '@llmkit/core-tensor';
import {
  CompactVocabulary,
  classifierAccuracy,
  classifierReward,
  loadClassifier,
  MeanPooledClassifier,
  saveClassifier,
  trainClassifier,
  trainRewardModel,
} from '@llmkit/rlhf';
import { getEncoding } from '@llmkit/tokenizer';

/** The data set's three files, in `<data>/sentiment/`. */
export const FILES = ['amazon_cells_labelled.txt', 'imdb_labelled.txt', 'yelp_labelled.txt'];
/** How the classifier is built and trained (part of the cache key). */
export const CLASSIFIER_SETTINGS = {
  model: { blockSize: 64, nLayer: 1, nHead: 4, nEmbd: 64, dropout: 0.2, typeVocabSize: 0 },
  training: { epochs: 8, batchSize: 32, lr: 1e-3, tokenDropout: 0.2, seed: 0 },
  heldOut: 500,
  splitSeed: 7,
};

/** The labelled sentences, shuffled with a fixed seed and split into train / held-out. */
export function sentimentSentences(dataDir) {
  const all = FILES.flatMap((file) =>
    readFileSync(join(dataDir, 'sentiment', file), 'utf8')
      .split('\n')
      .map((line) => line.split('\t'))
      .filter((parts) => parts.length === 2 && parts[0].trim().length > 0)
      .map(([text, label]) => ({ text: text.trim(), label: Number(label) })),
  );
  const shuffle = new Generator(CLASSIFIER_SETTINGS.splitSeed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = shuffle.nextInt(0, i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return {
    heldOut: all.slice(0, CLASSIFIER_SETTINGS.heldOut),
    train: all.slice(CLASSIFIER_SETTINGS.heldOut),
  };
}

/**
 * The sentiment classifier as a reward (P(positive) of a completion), trained or read from the
 * cache. Returns the reward function, the held-out accuracy and whether it came from the cache.
 */
export async function sentimentReward({
  dataDir,
  cacheRoot = join(tmpdir(), 'llmkit-rlhf-positive'),
  log = () => {},
}) {
  const sizes = FILES.map((file) => statSync(join(dataDir, 'sentiment', file)).size);
  const key = createHash('sha256')
    .update(JSON.stringify({ CLASSIFIER_SETTINGS, sizes, version: 1 }))
    .digest('hex')
    .slice(0, 12);
  const dir = join(cacheRoot, `sentiment-${key}`);
  const gpt2 = getEncoding('gpt2');
  const { train, heldOut } = sentimentSentences(dataDir);
  let model;
  let vocabulary;
  let cached = false;
  let trainSeconds = 0;
  if (existsSync(join(dir, 'model.safetensors'))) {
    ({ model, vocabulary } = await loadClassifier(dir, gpt2));
    cached = true;
  } else {
    log(`training the sentiment classifier on ${train.length} sentences (cached in ${dir})`);
    vocabulary = CompactVocabulary.fromTexts(
      gpt2,
      train.map((s) => s.text),
    );
    manualSeed(CLASSIFIER_SETTINGS.training.seed);
    model = new MeanPooledClassifier({
      ...CLASSIFIER_SETTINGS.model,
      vocabSize: vocabulary.vocabSize,
      numLabels: 2,
    });
    const started = performance.now();
    await trainClassifier({
      model,
      tokenizer: vocabulary,
      examples: train,
      ...CLASSIFIER_SETTINGS.training,
      onEpoch: (m) =>
        log(`  epoch ${m.epoch}: loss ${m.loss.toFixed(3)} (${(m.ms / 1000).toFixed(1)} s)`),
    });
    trainSeconds = (performance.now() - started) / 1000;
    await saveClassifier(dir, model, vocabulary, { trainSeconds });
  }
  const accuracy = classifierAccuracy(model, vocabulary, heldOut);
  return {
    reward: classifierReward({ model, tokenizer: vocabulary, positiveLabel: 1 }),
    accuracy,
    heldOut: heldOut.length,
    trainSize: train.length,
    vocabSize: vocabulary.vocabSize,
    cached,
    trainSeconds,
    dir,
  };
}

/**
 * Preference pairs from the sentiment sentences: each positive sentence chosen over a negative
 * one (prompt ""), from the same train / held-out split as the classifier's.
 */
export function sentimentPairs(dataDir) {
  const toPairs = (sentences) => {
    const positive = sentences.filter((s) => s.label === 1);
    const negative = sentences.filter((s) => s.label === 0);
    return Array.from({ length: Math.min(positive.length, negative.length) }, (_, i) => ({
      prompt: '',
      chosen: positive[i].text,
      rejected: negative[i].text,
    }));
  };
  const { train, heldOut } = sentimentSentences(dataDir);
  return { train: toPairs(train), heldOut: toPairs(heldOut) };
}

/**
 * A Bradley-Terry reward model (trainRewardModel of @llmkit/rlhf) on {@link sentimentPairs}: a
 * scalar-headed MeanPooledClassifier (numLabels 1) over the same compact GPT-2 vocabulary.
 * Returns the held-out pair accuracy (the share of held-out pairs whose chosen text scores higher).
 */
export async function sentimentRewardModel({ dataDir, steps = 300, batchSize = 16, onStep }) {
  const { train, heldOut } = sentimentPairs(dataDir);
  const vocabulary = CompactVocabulary.fromTexts(
    getEncoding('gpt2'),
    train.flatMap((p) => [p.chosen, p.rejected]),
  );
  manualSeed(0);
  const model = new MeanPooledClassifier({
    ...CLASSIFIER_SETTINGS.model,
    vocabSize: vocabulary.vocabSize,
    numLabels: 1,
  });
  const started = performance.now();
  const { evalAccuracy, history } = await trainRewardModel({
    model,
    tokenizer: vocabulary,
    pairs: train,
    evalPairs: heldOut,
    steps,
    batchSize,
    optimizer: { lr: 1e-3, weightDecay: 0.01 },
    onStep,
  });
  return {
    evalAccuracy,
    trainPairs: train.length,
    heldOutPairs: heldOut.length,
    steps,
    seconds: (performance.now() - started) / 1000,
    msPerStep: history.reduce((a, m) => a + m.ms, 0) / history.length,
  };
}
