// Reading a Hugging Face folder's weights: one model.safetensors or shards listed in
// model.safetensors.index.json; float16 / bfloat16 tensors converted to float32 on load.
import { dispose, loadSafetensors, type Tensor } from '@llmkit/core-tensor';
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

/** Reads every tensor of a model folder as float32 (or its integer dtype). */
export async function readHuggingFaceWeights(
  dir: string,
  options: { backend?: string; onProgress?: (progress: LoadProgress) => void } = {},
): Promise<Record<string, Tensor>> {
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
        part = await loadSafetensors(join(dir, file), { backend: options.backend });
      } catch (error) {
        throw new TransformerError(
          readFailureCode(error),
          `cannot read ${join(dir, file)}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      for (const [key, t] of Object.entries(part)) {
        if (key in tensors)
          throw new TransformerError(
            'corrupt_file',
            `${join(dir, file)}: tensor ${key} appears in two shards`,
          );
        if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
          tensors[key] = t.to('float32');
          t.dispose();
        } else tensors[key] = t;
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
