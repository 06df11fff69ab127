// @llmkit/rag/encoder: embeddings from an llmkit Encoder and their contrastive training. A
// separate entry point, so that @llmkit/rag installs and works without @llmkit/transformer and
// @llmkit/core-tensor (optional peer dependencies, needed only here).
export {
  type ContrastivePair,
  contrastiveBatchLoss,
  type InfoNceOptions,
  infoNceLoss,
  type TrainContrastiveOptions,
  type TrainContrastiveResult,
  trainContrastive,
} from './embedders/contrastive.js';
export {
  type EncoderEmbedderFile,
  loadEncoderEmbedder,
  saveEncoderEmbedder,
} from './embedders/encoder-checkpoint.js';
export {
  createEncoderEmbedder,
  type EmbedderTokenizer,
  type EncoderEmbedder,
  type EncoderEmbedderOptions,
  padBatch,
  tokenizeForEncoder,
} from './embedders/encoder-embedder.js';
