// Sentiment classification with an encoder trained from scratch on the UCI labelled sentences
// (DIR: Amazon, IMDb and Yelp, `sentence<TAB>label`), a small byte-level BPE
// trained on the training split, and accuracy on a held-out 10%.
// Run after `pnpm --filter @llmkit/trainer build`: node packages/trainer/examples/sentiment.mjs DIR [steps]
import '@llmkit/backend-cpu/register';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '@llmkit/core-tensor';
import { trainBpe } from '@llmkit/tokenizer';
import {
  classificationAccuracy,
  evaluateClassifier,
  holdOut,
  LabelledSequences,
  parseLabelledLines,
  sequenceClassificationLoss,
  Trainer,
} from '@llmkit/trainer';
import { EncoderForSequenceClassification } from '@llmkit/transformer';

// DIR: the UCI "Sentiment Labelled Sentences" folder (amazon_cells_labelled.txt, imdb_labelled.txt,
// yelp_labelled.txt), from https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences
const folder = process.argv[2];
if (!folder || !existsSync(folder)) {
  console.error(
    `usage: node examples/sentiment.mjs DIR [steps]\n  DIR (${folder ?? 'missing'}) must be the UCI Sentiment Labelled Sentences folder: https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences`,
  );
  process.exit(2);
}
const steps = Number(process.argv[3] ?? 600);
const started = performance.now();
const sentences = readdirSync(folder)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .flatMap((f) => parseLabelledLines(readFileSync(join(folder, f), 'utf8'), f));
const { train, validation } = holdOut(sentences, 0.1, 1337);

// tokenizer: 1,000 ids of byte-level BPE learned from the training sentences only (lower-cased)
const encoding = trainBpe(train.map((s) => s.text.toLowerCase()).join('\n'), {
  vocabSize: 1000,
  specialTokens: ['<cls>', '<pad>'],
});
const cls = encoding.specialTokens['<cls>'];
const pad = encoding.specialTokens['<pad>'];
const blockSize = 64;
const encode = ({ text, label }) => ({
  ids: [cls, ...encoding.encode(text.toLowerCase(), { disallowedSpecial: [] })].slice(0, blockSize),
  label,
});
const data = { train: train.map(encode), validation: validation.map(encode) };

manualSeed(1337);
const model = new EncoderForSequenceClassification(
  {
    vocabSize: encoding.vocabSize,
    blockSize,
    nLayer: 2,
    nHead: 4,
    nEmbd: 64,
    dropout: 0.1,
    typeVocabSize: 0,
  },
  2,
);
const trainer = new Trainer({
  model,
  loss: sequenceClassificationLoss,
  metrics: classificationAccuracy,
  data: new LabelledSequences(data, { batchSize: 32, padTokenId: pad, maxLength: blockSize }),
  config: {
    maxSteps: steps,
    evalInterval: 100,
    evalBatches: 2,
    weightDecay: 0.1,
    schedule: {
      kind: 'cosine',
      learningRate: 1e-3,
      warmupSteps: Math.min(50, Math.floor(steps / 4)),
      decaySteps: steps,
      minLearningRate: 1e-4,
    },
  },
});
const result = await trainer.train();
const trainEvaluation = await evaluateClassifier(model, data.train, {
  padTokenId: pad,
  batchSize: 64,
});
const heldOut = await evaluateClassifier(model, data.validation, {
  padTokenId: pad,
  batchSize: 64,
});
const seconds = (performance.now() - started) / 1000;
console.log(
  `sentiment: ${data.train.length} training / ${data.validation.length} held-out sentences, BPE vocabulary ${encoding.vocabSize}, ${model.parameterCount().toLocaleString()} parameters, ${steps} steps of 32`,
);
console.log(
  `train accuracy ${(100 * trainEvaluation.accuracy).toFixed(1)}%, held-out accuracy ${(100 * heldOut.accuracy).toFixed(1)}% (${heldOut.correct}/${heldOut.count}), held-out loss ${heldOut.loss.toFixed(4)}, ${result.msPerStep.toFixed(1)} ms/step, ${seconds.toFixed(0)} s`,
);
console.log(
  JSON.stringify({
    example: 'sentiment',
    steps,
    heldOutAccuracy: heldOut.accuracy,
    trainAccuracy: trainEvaluation.accuracy,
    heldOutLoss: heldOut.loss,
    msPerStep: result.msPerStep,
    seconds,
  }),
);
