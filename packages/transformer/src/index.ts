// @llmkit/transformer: the public API: models, configs, generation, load / save and Hugging Face
// interchange. The layers that models are built from are exported from `@llmkit/transformer/layers`
// (src/layers.ts), GGUF export from `@llmkit/transformer/gguf` (src/gguf/index.ts). The list is
// explicit: api/transformer.api.txt records it.
export { TransformerError, type TransformerErrorCode } from './errors.js';
export type { CausalDecoder, GenerateOptions } from './generate.js';
export {
  type Activation,
  type GPTConfig,
  llamaConfig,
  type RopeScaling,
  type ResolvedGPTConfig,
  resolveGPTConfig,
} from './gpt/config.js';
export { type CausalLMOutput, type ForwardOptions, GPT } from './gpt/model.js';
export { type KeyValue, KVCache } from './kv-cache.js';
export { padRows, type PaddingMask, positionIds, type TokenIds } from './masks.js';
export {
  type LoadDType,
  type LoadPretrainedOptions,
  type LoadProgress,
  loadPretrained,
  loadPretrainedEncoder,
} from './hf/load.js';
export { savePretrained } from './hf/save.js';
export { gptConfigFromHuggingFace } from './hf/convert.js';
export {
  type EncoderConfig,
  type ResolvedEncoderConfig,
  resolveEncoderConfig,
} from './encoder/config.js';
export {
  EncoderForMaskedLM,
  EncoderForSequenceClassification,
  type HeadOutput,
  meanPooledEmbeddings,
} from './encoder/heads.js';
export { Encoder, type EncoderForwardOptions, type EncoderOutput } from './encoder/model.js';
export {
  type EncoderDecoderConfig,
  type ResolvedEncoderDecoderConfig,
  resolveEncoderDecoderConfig,
} from './encoder-decoder/config.js';
export type { Seq2SeqGenerateOptions } from './encoder-decoder/generate.js';
export {
  type DecodeOptions,
  EncoderDecoder,
  type EncoderMemory,
  type Seq2SeqOutput,
} from './encoder-decoder/model.js';
export {
  type CheckpointConfig,
  describeModel,
  load,
  modelFromCheckpointConfig,
  save,
  type TransformerModel,
} from './checkpoint.js';
export {
  fewShotPrompt,
  oneShotPrompt,
  type PromptExample,
  type PromptOptions,
  zeroShotPrompt,
} from './prompts.js';
