// The benchmark's base model: a character GPT pretrained on Tiny Shakespeare (the old domain).
// node pretrain.mjs OUT_DIR STEPS DOMAIN [WIDTH]
//   DOMAIN: markdown or sentiment (it picks the vocabulary); WIDTH: a key of SHAPES (default
//   MODEL's 128; 384 is 6 layers, 6 heads)
import { manualSeed } from '@llmkit/core-tensor';
import { causalLanguageModelLoss, TokenWindows, Trainer } from '@llmkit/trainer';
import { GPT, save } from '@llmkit/transformer';
import { BATCH, corpora, MODEL, shapeFor, useFastBackend } from './common.mjs';

await useFastBackend();

const [out, steps, domain, width] = process.argv.slice(2);
const { chars, old } = corpora(out, domain);
manualSeed(1337);
const model = new GPT({ vocabSize: chars.length, ...shapeFor(Number(width ?? MODEL.nEmbd)) });
const trainer = new Trainer({
  model,
  loss: causalLanguageModelLoss,
  data: new TokenWindows(old, { blockSize: MODEL.blockSize, batchSize: BATCH, seed: 1337 }),
  config: {
    maxSteps: Number(steps),
    evalInterval: Number(steps),
    evalBatches: 10,
    schedule: {
      kind: 'cosine',
      learningRate: 1e-3,
      warmupSteps: Math.min(100, Math.floor(Number(steps) / 10)),
      decaySteps: Number(steps),
      minLearningRate: 1e-4,
    },
  },
});
const result = await trainer.train();
await save(model, out);
console.log(
  JSON.stringify({
    steps: result.steps,
    validationLoss: result.validationLoss,
    msPerStep: result.msPerStep,
  }),
);
