// The README's encoder-embedder example: train a tiny Encoder on four (query, positive) pairs with
// the contrastive loss, then score the passages for a query. Run after `pnpm build`.
import { manualSeed } from '@llmkit/core-tensor';
import { createEncoderEmbedder, trainContrastive } from '@llmkit/rag/encoder';
import { trainBpe } from '@llmkit/tokenizer';
import { Encoder } from '@llmkit/transformer';

const pairs = [
  { query: 'what makes a wing lift', positive: 'Wings make lift when air flows fast over them.' },
  { query: 'why does drag grow', positive: 'Drag grows with the square of speed.' },
  { query: 'how do propellers push', positive: 'Propellers turn shaft power into thrust.' },
  { query: 'when does a wing stall', positive: 'A wing stalls past its critical angle.' },
];
const texts = pairs.flatMap((p) => [p.query, p.positive]);
const tokenizer = trainBpe(texts.join('\n'), { vocabSize: 300 });
manualSeed(0);
const model = new Encoder({ vocabSize: 300, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 32 });
const options = { tokenizer, epochs: 40, batchSize: 4, learningRate: 3e-3 };
const { losses } = await trainContrastive(model, pairs, options);
const embedder = createEncoderEmbedder({ model, tokenizer }); // an Embedder, like the HTTP one
const passages = pairs.map((p) => p.positive);
const [q, ...docs] = await embedder.embed(['when does the wing stall?', ...passages]);
const cosine = docs.map((d) => +d.reduce((s, v, i) => s + v * q[i], 0).toFixed(3));
console.log(losses[0].toFixed(3), losses.at(-1).toFixed(3), cosine);
