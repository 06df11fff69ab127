// Reading a Hugging Face folder's weights: one model.safetensors or shards listed in
// model.safetensors.index.json, each tensor streamed from its shard into its final buffer in
// the dtype the load asks for (see LoadDType): weight matrices keep or take a 16-bit dtype,
// vectors (norms, biases) are float32.
import {
  type DType,
  dispose,
  isHalfDType,
  loadSafetensors,
  type Tensor,
} from '@llmkit/core-tensor';
import { readFailureCode, TransformerError } from '../errors.js';

/** Progress of loading a model folder: a weight file (shard) finished. */
export interface LoadProgress {
  /** The file just read. */
  file: string;
  /** Files read so far. */
  filesDone: number;
  /** Files in all. */
  filesTotal: number;
  /** Bytes read so far. */
  bytesDone: number;
  /** Bytes in all. */
  bytesTotal: number;
}

/**
 * The dtype weights load in: `'auto'` keeps each weight matrix in the file's dtype (bfloat16
 * stays bfloat16, as `torch_dtype="auto"`), `'float32'` converts everything to float32,
 * `'bfloat16'` / `'float16'` store every weight matrix in that dtype. Vectors (norm weights,
 * biases) are float32 in every case; integer tensors keep their dtype.
 */
export type LoadDType = 'auto' | 'float32' | 'bfloat16' | 'float16';

/** The values {@link LoadDType} takes. */
export const LOAD_DTYPES: readonly LoadDType[] = ['auto', 'float32', 'bfloat16', 'float16'];

/** The dtype a tensor of `shape` stored as `stored` is kept in under `dtype`. */
export function loadedDType(dtype: LoadDType, stored: DType, shape: readonly number[]): DType {
  const float = stored === 'float32' || stored === 'float64' || isHalfDType(stored);
  if (!float) return stored;
  if (dtype === 'float32' || shape.length < 2) return 'float32';
  if (dtype === 'auto') return isHalfDType(stored) ? stored : 'float32';
  return dtype;
}

/** Options of {@link readHuggingFaceWeights}. */
export interface ReadWeightsOptions {
  /** Backend for the tensors (default: the active one). */
  backend?: string;
  /** The dtype to keep weights in (default `'auto'`). */
  dtype?: LoadDType;
  /** Called after each weight file is read. */
  onProgress?: (progress: LoadProgress) => void;
  /** Called with each tensor as it is read; returns what to keep (see loadSafetensors' `map`). */
  map?: (name: string, tensor: Tensor) => Tensor | null;
}

/** Reads every tensor of a model folder, each in the dtype `options.dtype` gives it. */
export async function readHuggingFaceWeights(
  dir: string,
  options: ReadWeightsOptions = {},
): Promise<Record<string, Tensor>> {
  const dtype = options.dtype ?? 'auto';
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  const indexPath = join(dir, 'model.safetensors.index.json');
  let files = ['model.safetensors'];
  const index = await fs.readFile(indexPath, 'utf8').catch(() => null);
  if (index !== null) {
    let map: Record<string, string>;
    try {
      map = JSON.parse(index).weight_map;
    } catch (error) {
      throw new TransformerError(
        'corrupt_file',
        `${indexPath} is not valid JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (typeof map !== 'object' || map === null)
      throw new TransformerError('corrupt_file', `${indexPath} has no weight_map object`);
    files = [...new Set(Object.values(map))].sort();
  }
  const sizes = await Promise.all(
    files.map((f) =>
      fs.stat(join(dir, f)).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  const bytesTotal = sizes.reduce((a, b) => a + b, 0);
  const tensors: Record<string, Tensor> = {};
  let bytesDone = 0;
  try {
    for (const [i, file] of files.entries()) {
      let part: Record<string, Tensor>;
      try {
        part = await loadSafetensors(join(dir, file), {
          backend: options.backend,
          dtypeOf: (_name, stored, shape) => loadedDType(dtype, stored, shape),
          map: options.map,
        });
      } catch (error) {
        throw new TransformerError(
          readFailureCode(error),
          `cannot read ${join(dir, file)}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      for (const [key, t] of Object.entries(part)) {
        if (key in tensors) {
          dispose(Object.values(part));
          throw new TransformerError(
            'corrupt_file',
            `${join(dir, file)}: tensor ${key} appears in two shards`,
          );
        }
        tensors[key] = t;
      }
      bytesDone += sizes[i];
      options.onProgress?.({
        file,
        filesDone: i + 1,
        filesTotal: files.length,
        bytesDone,
        bytesTotal,
      });
    }
  } catch (error) {
    dispose(Object.values(tensors));
    throw error;
  }
  return tensors;
}
