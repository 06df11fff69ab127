// @llmkit/utils: the public API.
export { formatShape, LlmkitError, type LlmkitErrorCode } from './errors.js';
export {
  type FileData,
  nodeBuiltin,
  syncFolder,
  temporaryPath,
  writeFileAtomic,
  writeFileAtomicSync,
  writeFolderAtomic,
} from './files.js';
export {
  checkBoolean,
  checkChoice,
  checkNumber,
  configError,
  describeValue,
  type NumberRange,
  rejectUnknownKeys,
  withDefaults,
} from './options.js';
