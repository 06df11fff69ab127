// @llmkit/transformer: the public API.
export { type AttendOptions, attend, mergeHeads, repeatKeyValue, splitHeads } from './attention.js';
export { TransformerError, type TransformerErrorCode } from './errors.js';
export type { CausalDecoder, GenerateOptions } from './generate.js';
export { CausalSelfAttention, type LayerContext } from './gpt/attention.js';
export { Block } from './gpt/block.js';
export {
  type Activation,
  type GPTConfig,
  llamaConfig,
  type ResolvedGPTConfig,
  resolveGPTConfig,
} from './gpt/config.js';
export { MLP } from './gpt/mlp.js';
export { type CausalLMOutput, type ForwardOptions, GPT } from './gpt/model.js';
export { type KeyValue, KVCache } from './kv-cache.js';
export { padRows, type PaddingMask, positionIds, type TokenIds } from './masks.js';
export type { RopeTables } from './rope.js';
export { type LoadPretrainedOptions, loadPretrained } from './hf/load.js';
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
export {
  Encoder,
  type EncoderForwardOptions,
  EncoderLayer,
  type EncoderOutput,
} from './encoder/model.js';
export { named } from './named.js';
export {
  type EncoderDecoderConfig,
  type ResolvedEncoderDecoderConfig,
  resolveEncoderDecoderConfig,
} from './encoder-decoder/config.js';
export type { Seq2SeqGenerateOptions } from './encoder-decoder/generate.js';
export {
  type AttentionInputs,
  MultiHeadAttention,
  TransformerDecoderLayer,
  TransformerEncoderLayer,
} from './encoder-decoder/layers.js';
export {
  type DecodeOptions,
  EncoderDecoder,
  type EncoderMemory,
  type Seq2SeqOutput,
  type Stack,
  sinusoidalPositions,
} from './encoder-decoder/model.js';
export {
  type CheckpointConfig,
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
export { type ExportGgufOptions, exportGguf, ggufTensorName } from './gguf/export.js';
export { byteToUnicode, ggufVocabulary } from './gguf/vocab.js';
