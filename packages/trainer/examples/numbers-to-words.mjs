// Sequence-to-sequence with an encoder-decoder: spell out numbers (4217 -> "four thousand two
// hundred seventeen"). The task is generated here; 5% of 0..9999 is held out, and the figure is
// exact match of greedy generation on those numbers, which the model never saw.
// Run after `pnpm --filter @llmkit/trainer build`: node packages/trainer/examples/numbers-to-words.mjs [steps]
import '@llmkit/backend-cpu/register';
import { manualSeed } from '@llmkit/core-tensor';
import { holdOut, Seq2SeqBatches, seq2seqExactMatch, seq2seqLoss, Trainer } from '@llmkit/trainer';
import { EncoderDecoder } from '@llmkit/transformer';
import { ONES, TENS, toWords } from './numbers-to-words-task.mjs';

const steps = Number(process.argv[2] ?? 800);
const started = performance.now();
// one vocabulary for both sides (the model shares its embeddings): specials, digits, words
const vocabulary = [
  '<pad>',
  '<s>',
  '</s>',
  ...'0123456789',
  ...ONES,
  ...TENS.slice(2),
  'hundred',
  'thousand',
];
const id = new Map(vocabulary.map((token, i) => [token, i]));
const tokens = { padTokenId: 0, decoderStartTokenId: 1, eosTokenId: 2 };
const pairs = Array.from({ length: 10000 }, (_, n) => ({
  sourceIds: [...String(n)].map((d) => id.get(d)),
  targetIds: toWords(n).map((w) => id.get(w)),
}));
const { train, validation } = holdOut(pairs, 0.05, 1337);

manualSeed(1337);
const model = new EncoderDecoder({
  vocabSize: vocabulary.length,
  blockSize: 16,
  nEncoderLayer: 2,
  nDecoderLayer: 2,
  nHead: 4,
  nEmbd: 64,
});
const trainer = new Trainer({
  model,
  loss: seq2seqLoss,
  data: new Seq2SeqBatches({ train, validation }, { ...tokens, batchSize: 32 }),
  config: {
    maxSteps: steps,
    evalInterval: 200,
    evalBatches: 4,
    schedule: {
      kind: 'cosine',
      learningRate: 3e-3,
      warmupSteps: Math.min(50, Math.floor(steps / 4)),
      decaySteps: steps,
      minLearningRate: 3e-4,
    },
  },
});
const result = await trainer.train();
const heldOut = await seq2seqExactMatch(model, validation, tokens);
const seconds = (performance.now() - started) / 1000;
const show = (i) =>
  `${validation[i].sourceIds.map((t) => vocabulary[t]).join('')} -> ${heldOut.predictions[i].map((t) => vocabulary[t]).join(' ')}`;
console.log(
  `numbers to words: ${train.length} training / ${validation.length} held-out numbers, ${model.parameterCount().toLocaleString()} parameters, ${steps} steps of 32`,
);
for (const i of [0, 1, 2]) console.log(`  ${show(i)}`);
console.log(
  `held-out exact match ${(100 * heldOut.exactMatch).toFixed(1)}% (${heldOut.correct}/${heldOut.count}), validation loss ${result.validationLoss?.toFixed(4)}, ${result.msPerStep.toFixed(1)} ms/step, ${seconds.toFixed(0)} s`,
);
console.log(
  JSON.stringify({
    example: 'numbers-to-words',
    steps,
    exactMatch: heldOut.exactMatch,
    validationLoss: result.validationLoss,
    msPerStep: result.msPerStep,
    seconds,
  }),
);
