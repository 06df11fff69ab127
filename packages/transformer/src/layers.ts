// @llmkit/transformer/layers: the blocks the models are built from, for composing a new
// architecture (contributing/04-add-a-model-architecture.md) or reading one layer at a time.
// Users of the models need only `@llmkit/transformer`.
export { type AttendOptions, attend, mergeHeads, repeatKeyValue, splitHeads } from './attention.js';
export { EncoderLayer } from './encoder/model.js';
export {
  type AttentionInputs,
  MultiHeadAttention,
  TransformerDecoderLayer,
  TransformerEncoderLayer,
} from './encoder-decoder/layers.js';
export { type Stack, sinusoidalPositions } from './encoder-decoder/model.js';
export { CausalSelfAttention, type LayerContext } from './gpt/attention.js';
export { Block } from './gpt/block.js';
export { MLP } from './gpt/mlp.js';
export { named } from './named.js';
export type { RopeTables } from './rope.js';
