// Training off the main thread: a small character-level GPT on the page's text, one optimizer
// step at a time, posting the loss after each; `stop` pauses between steps, `start` again
// resumes from where it stopped, `sample` generates from the current weights.
import { AdamW, backward, manualSeed, noGrad, setBackend, tidy } from '@llmkit/core-tensor';
import { CharTokenizer } from '@llmkit/tokenizer';
import { GPT } from '@llmkit/transformer';

type Message =
  | { type: 'start'; text: string; steps: number }
  | { type: 'stop' }
  | { type: 'sample'; length: number };

let state: {
  text: string;
  tokenizer: CharTokenizer;
  ids: number[];
  model: GPT;
  optimizer: AdamW;
  step: number;
} | null = null;
let running = false;

const BLOCK = 32;
const BATCH = 8;

function setUp(text: string) {
  manualSeed(0);
  const tokenizer = CharTokenizer.fromText(text);
  const model = new GPT({
    vocabSize: tokenizer.vocabSize,
    blockSize: BLOCK,
    nLayer: 2,
    nHead: 2,
    nEmbd: 48,
  });
  const optimizer = new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0 });
  return { text, tokenizer, ids: tokenizer.encode(text), model, optimizer, step: 0 };
}

let seed = 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

async function train(steps: number) {
  running = true;
  const s = state!;
  while (running && s.step < steps) {
    const rows: number[][] = [];
    const targets: number[][] = [];
    for (let b = 0; b < BATCH; b++) {
      const at = Math.floor(random() * (s.ids.length - BLOCK - 1));
      rows.push(s.ids.slice(at, at + BLOCK));
      targets.push(s.ids.slice(at + 1, at + BLOCK + 1));
    }
    const loss = tidy(() => {
      s.optimizer.zeroGrad();
      const out = s.model.forward(rows, { targets });
      backward(out.loss!);
      s.optimizer.step();
      return (out.loss!.dataSync() as Float32Array)[0];
    });
    s.step++;
    postMessage({ type: 'step', step: s.step, loss });
    await new Promise((resolve) => setTimeout(resolve, 0)); // let `stop` arrive
  }
  running = false;
  postMessage({ type: 'stopped', step: s.step });
}

self.addEventListener('message', async (event: MessageEvent<Message>) => {
  const message = event.data;
  try {
    if (message.type === 'start') {
      if (!state || state.text !== message.text) {
        await setBackend('js');
        if (message.text.length < BLOCK + 2)
          throw new Error(`the text needs at least ${BLOCK + 2} characters to train on`);
        state?.model.dispose();
        state = setUp(message.text);
      }
      if (!running) await train(message.steps);
    } else if (message.type === 'stop') running = false;
    else if (message.type === 'sample' && state) {
      const prompt = state.ids.slice(0, 1);
      const [row] = await noGrad(() =>
        state!.model.generate([prompt], {
          maxNewTokens: message.length,
          doSample: true,
          temperature: 0.8,
          seed: 3,
          truncation: 'left',
        }),
      );
      postMessage({ type: 'sample', text: state.tokenizer.decode(row) });
    }
  } catch (error) {
    running = false;
    postMessage({ type: 'error', message: (error as Error).message });
  }
});
