import { loadPretrained, savePretrained } from '@llmkit/transformer';

const model = await loadPretrained('../shared/fixtures/gpt2-tiny'); // config.json + model.safetensors
console.log(model.config.nLayer, model.config.nEmbd, model.parameterCount());
const [row] = await model.generate([[46, 68, 86]], { maxNewTokens: 6 });
console.log(row);
await savePretrained(model, '/tmp/my-gpt2'); // loads in transformers' GPT2LMHeadModel.from_pretrained
