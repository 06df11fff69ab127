export {
  MAX_HEADER_BYTES,
  parseSafetensors,
  SAFETENSORS_DTYPES,
  type SafetensorsEntry,
  type SafetensorsFile,
  serializeSafetensors,
} from './safetensors.js';
export {
  loadSafetensors,
  type ReadSafetensorsOptions,
  readSafetensors,
  saveSafetensors,
  writeSafetensors,
} from './tensors.js';
