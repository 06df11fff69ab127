// Child process for the crash test: trains a small model and checkpoints after every step
// until the parent kills it with SIGKILL at a random moment.
import { Trainer, TokenWindows, causalLanguageModelLoss } from '../dist/index.js';
import { TinyLanguageModel } from '../dist/testing/tiny-lm.js';

const [dir] = process.argv.slice(2);
const tokens = Array.from({ length: 5000 }, (_, i) => (i * 7) % 64);
const model = new TinyLanguageModel(64, 256); // ~33k parameters, so each write takes a moment
const data = new TokenWindows(tokens, { blockSize: 16, batchSize: 4 });
const trainer = new Trainer({
  model,
  loss: causalLanguageModelLoss,
  data,
  config: {
    maxSteps: 100_000,
    evalInterval: 1000,
    evalBatches: 1,
    checkpoint: { dir, interval: 1, keepLast: 2 },
  },
});
await trainer.resume();
process.stdout.write('ready\n');
await trainer.train();
