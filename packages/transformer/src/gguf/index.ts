// @llmkit/transformer/gguf: export a model (and its tokenizer) to a GGUF file for llama.cpp.
export {
  type ExportGgufOptions,
  exportGguf,
  type GgufTensorData,
  ggufTensorName,
} from './export.js';
export { ggufVocabulary } from './vocab.js';
