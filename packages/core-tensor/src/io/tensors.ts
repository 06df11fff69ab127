// safetensors <-> Tensor, and file save (atomic, through @llmkit/utils) / load.
import { writeFileAtomic } from '@llmkit/utils';
import { JsBuffer } from '../backend/js/buffer.js';
import { findBackend, getBackend } from '../backend/registry.js';
import { DTYPE_BYTES, type DType, makeTypedArray, type TypedArray } from '../dtype.js';
import { TensorError } from '../errors.js';
import { fromValues } from '../ops/creation.js';
import { allocate } from '../ops/kernel.js';
import type { Tensor } from '../tensor.js';
import {
  parseSafetensors,
  parseSafetensorsLayout,
  type SafetensorsEntry,
  safetensorsHeaderLength,
  serializeSafetensors,
} from './safetensors.js';

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

/** Options of {@link loadSafetensors}. */
export interface LoadSafetensorsOptions extends ReadSafetensorsOptions {
  /**
   * The dtype to keep each tensor in, given its name, stored dtype and shape (default: the
   * stored one).
   * A float tensor converted on the way (bfloat16 -> float32, float32 -> bfloat16, ...) passes
   * through one scratch copy of itself, never of the file.
   */
  dtypeOf?: (name: string, stored: DType, shape: readonly number[]) => DType;
  /**
   * Called with each tensor as soon as it is read; returns what to keep under its name (the same
   * tensor, or another one made from it, freeing the first: a quantized copy, say), or null when
   * the hook took the tensor itself (it then owns it, and the result has no entry for the name),
   * so a model can be transformed tensor by tensor without ever holding all of it in float.
   */
  map?: (name: string, tensor: Tensor) => Tensor | null;
}

/**
 * Loads a safetensors file into tensors by name (Node.js), streaming: the header is parsed and
 * checked against the file's length first, then each tensor's bytes go from the file straight
 * into its backend buffer (a js / cpu buffer is filled in place; other backends get one
 * tensor-sized copy), so memory peaks at the tensors kept plus one tensor, not the file twice.
 * A file that ends early or changes while it is read is a `corrupt_file` error naming the
 * tensor; tensors already made are freed.
 *
 * @example
 * ```ts
 * const weights = await loadSafetensors('model.safetensors', { dtypeOf: () => 'float32' });
 * ```
 */
export async function loadSafetensors(
  path: string,
  options: LoadSafetensorsOptions = {},
): Promise<Record<string, Tensor>> {
  const fs = await import('node:fs/promises');
  const handle = await fs.open(path, 'r');
  const out: Record<string, Tensor> = {};
  try {
    const fileLength = (await handle.stat()).size;
    const first = new Uint8Array(Math.min(8, fileLength));
    await readExactly(handle, first, 0, path, 'the header length');
    const n = safetensorsHeaderLength(first, fileLength);
    const prefix = new Uint8Array(8 + n);
    await readExactly(handle, prefix, 0, path, 'the header');
    const { specs, dataStart } = parseSafetensorsLayout(prefix, fileLength);
    const backend = options.backend ? findBackend(options.backend) : getBackend();
    let scratch = new Uint8Array(0);
    // in file order, so the reads sweep the file once
    const order = Object.entries(specs).sort(([, a], [, b]) => a.begin - b.begin);
    for (const [name, span] of order) {
      const bytes = span.end - span.begin;
      const position = dataStart + span.begin;
      const wanted = options.dtypeOf?.(name, span.dtype, span.shape) ?? span.dtype;
      let tensor: Tensor;
      const direct = wanted === span.dtype ? allocate(backend, span.shape, span.dtype) : null;
      const target = direct ? hostBytes(direct) : null;
      if (direct && target) {
        out[name] = direct;
        await readExactly(handle, target, position, path, `tensor '${name}'`);
        tensor = direct;
      } else {
        direct?.dispose();
        if (scratch.byteLength < bytes) scratch = new Uint8Array(bytes);
        const view = scratch.subarray(0, bytes);
        await readExactly(handle, view, position, path, `tensor '${name}'`);
        const size = bytes / DTYPE_BYTES[span.dtype];
        const Typed = makeTypedArray(span.dtype, 0).constructor as new (
          buffer: ArrayBufferLike,
          byteOffset: number,
          length: number,
        ) => TypedArray;
        const stored = fromValues(new Typed(view.buffer, 0, size), span.shape, {
          dtype: span.dtype,
          backend: backend.name,
        });
        tensor = wanted === span.dtype ? stored : stored.to(wanted);
        if (tensor !== stored) stored.dispose();
        out[name] = tensor;
      }
      if (options.map) {
        const mapped = options.map(name, tensor);
        if (mapped === null) delete out[name];
        else {
          if (mapped !== tensor) tensor.dispose();
          out[name] = mapped;
        }
      }
    }
    return out;
  } catch (error) {
    for (const t of Object.values(out)) t.dispose();
    throw error;
  } finally {
    await handle.close();
  }
}

/** The bytes of a freshly allocated tensor's buffer when the host can write them in place. */
function hostBytes(t: Tensor): Uint8Array | null {
  const buffer = t.storage.buffer;
  if (!(buffer instanceof JsBuffer)) return null;
  const data = buffer.data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Fills `into` from `position` of the file, or fails naming `what` when the file ends first. */
async function readExactly(
  handle: import('node:fs/promises').FileHandle,
  into: Uint8Array,
  position: number,
  path: string,
  what: string,
): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    // at most 1 GiB a call: one read() of 2 GiB or more fails
    const length = Math.min(into.byteLength - done, 1 << 30);
    const { bytesRead } = await handle.read(into, done, length, position + done);
    if (bytesRead === 0)
      throw new TensorError(
        'corrupt_file',
        `safetensors: ${path} ends after ${position + done} bytes, inside ${what} (bytes [${position}, ${position + into.byteLength}))`,
      );
    done += bytesRead;
  }
}
