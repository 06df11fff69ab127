// safetensors <-> Tensor, and file save (atomic, through @llmkit/utils) / load.
import { writeFileAtomic } from '@llmkit/utils';
import { fromValues } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { parseSafetensors, type SafetensorsEntry, serializeSafetensors } from './safetensors.js';

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** Backend for the tensors (default: the active one). */
  backend?: string;
}

/**
 * Reads safetensors bytes into tensors by name (dtypes kept: convert with `.to('float32')`).
 *
 * @example
 * ```ts
 * const weights = readSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 * ```
 */
export function readSafetensors(
  bytes: Uint8Array,
  options: ReadSafetensorsOptions = {},
): Record<string, Tensor> {
  const { tensors } = parseSafetensors(bytes);
  const out: Record<string, Tensor> = {};
  for (const [name, entry] of Object.entries(tensors)) {
    out[name] = fromValues(entry.data, entry.shape, {
      dtype: entry.dtype,
      backend: options.backend,
    });
  }
  return out;
}

/**
 * Writes tensors (any dtype, any backend) to safetensors bytes with optional string metadata.
 *
 * @example
 * ```ts
 * const bytes = await writeSafetensors(model.stateDict(), { format: 'pt' });
 * ```
 */
export async function writeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of Object.entries(tensors)) {
    entries[name] = { dtype: t.dtype, shape: t.shape.slice(), data: await t.data() };
  }
  return serializeSafetensors(entries, metadata);
}

/**
 * Saves tensors to a safetensors file atomically (Node.js).
 *
 * @example
 * ```ts
 * await saveSafetensors('model.safetensors', model.stateDict());
 * ```
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, await writeSafetensors(tensors, metadata));
}

/** Loads a safetensors file into tensors by name (Node.js). */
export async function loadSafetensors(
  path: string,
  options: ReadSafetensorsOptions = {},
): Promise<Record<string, Tensor>> {
  const fs = await import('node:fs/promises');
  const buffer = await fs.readFile(path);
  return readSafetensors(
    new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength),
    options,
  );
}
