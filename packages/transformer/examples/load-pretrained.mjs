// Loads a Hugging Face GPT-2 folder (config.json + model.safetensors), for example from
// `huggingface-cli download openai-community/gpt2 --local-dir gpt2`, and saves it back.
// Run after `pnpm build`: node packages/transformer/examples/load-pretrained.mjs path/to/gpt2
import { loadPretrained, savePretrained } from '@llmkit/transformer';

const dir = process.argv[2];
if (!dir) {
  console.error(
    'usage: node examples/load-pretrained.mjs DIR   (DIR: a Hugging Face GPT-2 folder)',
  );
  process.exit(2);
}
const model = await loadPretrained(dir);
console.log(model.config.nLayer, model.config.nEmbd, model.parameterCount()); // 12 768 124439808 for gpt2
const [row] = await model.generate([[464]], { maxNewTokens: 6 }); // "The" in GPT-2 ids, then 6 greedy ids
console.log(row);
await savePretrained(model, `${dir}-resaved`); // opens in transformers' GPT2LMHeadModel.from_pretrained
