export { CharTokenizer, type CharTokenizerJson } from './char.js';
export {
  applyChatTemplate,
  CHATML_TEMPLATE,
  type ChatMessage,
  type ChatTemplateOptions,
  PLAIN_TEMPLATE,
} from './chat.js';
export {
  type EncodeOptions,
  Encoding,
  type EncodingSpec,
  type SpecialTokenSet,
} from './encoding.js';
export { TokenizerError } from './errors.js';
export {
  type EncodingFile,
  encodingFromJSON,
  encodingToJSON,
  loadEncodingFile,
  saveEncoding,
} from './file.js';
export type { RankMap } from './bpe.js';
export { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from './pattern.js';
export {
  ENCODING_NAMES,
  type EncodingName,
  encodingForModel,
  encodingNameForModel,
  getEncoding,
  loadEncoding,
} from './registry.js';
export {
  Tokenizer,
  type TokenizerChatOptions,
  type TokenizerDecodeOptions,
  type TokenizerEncodeOptions,
  type TokenizerEncoding,
} from './hf/tokenizer.js';
export type {
  AddedTokenJson,
  ComponentJson,
  ModelJson,
  PatternJson,
  TokenizerConfigJson,
  TokenizerJson,
} from './hf/json.js';
export { loadTokenizer } from './hf/load.js';
export { StreamingDecoder } from './streaming.js';
export { type TrainBpeOptions, trainBpe } from './train.js';
