// @llmkit/quantize: the public API.
export { QuantizeError } from './errors.js';
export { checkParts, dequantizeWeight, nf4Absmax, quantizeWeight } from './formats/index.js';
export { NF4_CODE } from './formats/nf4.js';
export {
  ACTIVATIONS,
  type Activations,
  GGML_BLOCK_BYTES,
  type PackedArray,
  packedBytes,
  type PartSpec,
  partSpecs,
  QUANT_FORMATS,
  type QuantFormat,
  type QuantizedWeight,
  type QuantizeOptions,
  type ResolvedQuantizeOptions,
  resolveQuantizeOptions,
} from './formats/types.js';
export { QuantizedLinear, type QuantizedLinearOptions, partKey } from './linear.js';
export { QuantizedEmbedding, type QuantizedEmbeddingOptions } from './embedding.js';
export {
  dequantizeModel,
  type QuantizedLayerInfo,
  type QuantizeModelOptions,
  type QuantizeModelResult,
  quantizedEmbeddings,
  quantizedLayers,
  quantizeModel,
  tiedEmbedding,
} from './model.js';
export { quantizedMatmul } from './kernel.js';
export {
  isQuantizedCheckpoint,
  loadQuantized,
  type QuantizationConfig,
  saveQuantized,
} from './io.js';
export {
  characterVocabulary,
  type ExportQuantizedGgufOptions,
  exportQuantizedGguf,
  type GgufTokenizer,
  gpt2Layout,
} from './gguf.js';
export {
  type EvaluateLossOptions,
  evaluateLoss,
  type QualityReport,
  quantizeWithReport,
  weightBytes,
} from './report.js';
