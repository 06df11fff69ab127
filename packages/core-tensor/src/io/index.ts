export {
  MAX_HEADER_BYTES,
  parseSafetensors,
  parseSafetensorsLayout,
  type SafetensorsLayout,
  type SafetensorsSpan,
  safetensorsHeaderLength,
  SAFETENSORS_DTYPES,
  type SafetensorsEntry,
  type SafetensorsFile,
  serializeSafetensors,
} from './safetensors.js';
export {
  type LoadSafetensorsOptions,
  loadSafetensors,
  type ReadSafetensorsOptions,
  readSafetensors,
  saveSafetensors,
  writeSafetensors,
} from './tensors.js';
