// Catastrophic forgetting and replay: a character-level GPT learns task A (English review
// sentences from the UCI labelled sentences in DIR), then is fine-tuned on task B (numbers spelled out in
// words) twice from the same weights: once on B alone, once with 25% of the batches replayed
// from A. The validation loss on both tasks is reported after each stage.
// Run after `pnpm --filter @llmkit/trainer build`: node packages/trainer/examples/replay.mjs DIR [pretrainSteps] [finetuneSteps]
import '@llmkit/backend-cpu/register';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed, noGrad, tidy } from '@llmkit/core-tensor';
import { CharTokenizer } from '@llmkit/tokenizer';
import {
  causalLanguageModelLoss,
  parseLabelledLines,
  ReplayData,
  TokenWindows,
  Trainer,
} from '@llmkit/trainer';
import { GPT } from '@llmkit/transformer';
import { toWords } from './numbers-to-words-task.mjs';

// DIR: the UCI "Sentiment Labelled Sentences" folder (amazon_cells_labelled.txt, imdb_labelled.txt,
// yelp_labelled.txt), from https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences
const folder = process.argv[2];
if (!folder || !existsSync(folder)) {
  console.error(
    `usage: node examples/replay.mjs DIR [pretrainSteps] [finetuneSteps]\n  DIR (${folder ?? 'missing'}) must be the UCI Sentiment Labelled Sentences folder: https://archive.ics.uci.edu/dataset/331/sentiment+labelled+sentences`,
  );
  process.exit(2);
}
const pretrainSteps = Number(process.argv[3] ?? 400);
const finetuneSteps = Number(process.argv[4] ?? 200);
const fraction = 0.25;
const started = performance.now();

const textA = readdirSync(folder)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .flatMap((f) => parseLabelledLines(readFileSync(join(folder, f), 'utf8'), f).map((s) => s.text))
  .join('\n');
// task B: "4217 four thousand two hundred seventeen" lines in a shuffled order
const numbers = Array.from({ length: 10000 }, (_, n) => n).sort(
  (a, b) => ((a * 7919) % 10007) - ((b * 7919) % 10007),
);
const textB = numbers.map((n) => `${n} ${toWords(n).join(' ')}`).join('\n');
const tokenizer = CharTokenizer.fromText(textA + textB);
const [tokensA, tokensB] = [tokenizer.encode(textA), tokenizer.encode(textB)];
const blockSize = 64;
const batchSize = 16;
const windows = (tokens, seed) => new TokenWindows(tokens, { blockSize, batchSize, seed });
const config = { vocabSize: tokenizer.vocabSize, blockSize, nLayer: 2, nHead: 4, nEmbd: 64 };

/** Mean validation loss over the same 10 batches every time. */
function validationLoss(model, tokens) {
  const data = windows(tokens, 99);
  model.eval();
  let total = 0;
  for (let i = 0; i < 10; i++) {
    const batch = data.next('validation');
    total += noGrad(() => tidy(() => causalLanguageModelLoss(model, batch).dataSync()[0]));
  }
  model.train();
  return total / 10;
}

function train(model, data, maxSteps, learningRate) {
  return new Trainer({
    model,
    loss: causalLanguageModelLoss,
    data,
    config: {
      maxSteps,
      evalInterval: maxSteps,
      evalBatches: 1,
      schedule: {
        kind: 'cosine',
        learningRate,
        warmupSteps: Math.min(20, Math.floor(maxSteps / 4)),
        decaySteps: maxSteps,
        minLearningRate: learningRate / 10,
      },
    },
  }).train();
}

manualSeed(1337);
const base = new GPT(config);
await train(base, windows(tokensA, 1), pretrainSteps, 3e-3);
const rows = [
  ['after pretraining on A', validationLoss(base, tokensA), validationLoss(base, tokensB)],
];
for (const replay of [0, fraction]) {
  const model = new GPT(config);
  model.loadStateDict(base.stateDict());
  const taskB = windows(tokensB, 2);
  const data = replay ? new ReplayData(taskB, windows(tokensA, 3), { fraction: replay }) : taskB;
  await train(model, data, finetuneSteps, 1e-3);
  rows.push([
    replay ? `fine-tuned on B, ${replay * 100}% replay of A` : 'fine-tuned on B, no replay',
    validationLoss(model, tokensA),
    validationLoss(model, tokensB),
  ]);
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `replay: character GPT (${base.parameterCount().toLocaleString()} parameters), ${pretrainSteps} steps on A (${tokensA.length.toLocaleString()} characters of review sentences), then ${finetuneSteps} steps on B (${tokensB.length.toLocaleString()} characters of numbers in words); batch ${batchSize} x ${blockSize}`,
);
console.log(`| stage | validation loss A | validation loss B |\n|---|---|---|`);
for (const [stage, a, b] of rows) console.log(`| ${stage} | ${a.toFixed(3)} | ${b.toFixed(3)} |`);
console.log(`${seconds.toFixed(0)} s`);
console.log(
  JSON.stringify({ example: 'replay', pretrainSteps, finetuneSteps, fraction, rows, seconds }),
);
