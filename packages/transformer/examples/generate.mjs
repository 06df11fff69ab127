import { manualSeed } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';

manualSeed(0);
const model = new GPT({ vocabSize: 64, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32 });
console.log(await model.generate([[1, 2, 3], [4]], { maxNewTokens: 5 }));
const options = { maxNewTokens: 5, doSample: true, topK: 10, seed: 1 };
console.log(await model.generate([[1, 2, 3]], options));
