// Index files: one format for every saved index and store, so that corruption is caught in one
// place. Layout (little-endian):
//
//   "LLMKRAG1"            8 bytes, magic
//   headerLength          u32
//   header                UTF-8 JSON: { kind, version, ...what the index needs }
//   payload               bytes (typed arrays, JSON, whatever the kind puts there)
//   sha256                32 bytes, over everything before it
//
// A truncated, bit-flipped or foreign file fails the checksum (or the magic) and the error names
// the file. Node only: the functions import node:fs and node:crypto when called; writes go through
// @llmkit/utils' writeFileAtomic.
import { writeFileAtomic } from '@llmkit/utils';
import { RagError } from './errors.js';

const MAGIC = new TextEncoder().encode('LLMKRAG1');
const DIGEST_LENGTH = 32;

/** What {@link readIndexFile} returns: the JSON header and the payload bytes. */
export interface IndexFileContents<Header> {
  /** The header written by {@link writeIndexFile}, `kind` and `version` included. */
  header: Header & { kind: string; version: number };
  /** The payload bytes, a view into the file's buffer. */
  payload: Uint8Array;
}

/** Concatenates byte arrays (typed-array views are copied as their bytes). */
export function concatBytes(parts: ArrayBufferView[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
    at += part.byteLength;
  }
  return out;
}

/** Writes an index file of the given kind (see the layout above), atomically. */
export async function writeIndexFile(
  path: string,
  kind: string,
  version: number,
  header: object,
  payload: ArrayBufferView[],
): Promise<void> {
  const { createHash } = await import('node:crypto');
  const headerBytes = new TextEncoder().encode(JSON.stringify({ ...header, kind, version }));
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, headerBytes.length, true);
  const body = concatBytes([MAGIC, length, headerBytes, ...payload]);
  const digest = createHash('sha256').update(body).digest();
  await writeFileAtomic(path, [body, digest]); // in chunks: no copy of the whole file
}

/**
 * Reads an index file and checks it: magic, SHA-256 checksum, kind and version. Throws
 * `RagError('corrupt_file')` naming the file when the bytes are damaged or hold another kind of
 * index, `unsupported` when its version is not the one this build reads.
 */
export async function readIndexFile<Header>(
  path: string,
  kind: string,
  version: number,
): Promise<IndexFileContents<Header>> {
  const fs = await import('node:fs/promises');
  const { createHash } = await import('node:crypto');
  const raw = await fs.readFile(path);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const corrupt = (why: string) =>
    new RagError('corrupt_file', `${path}: corrupt ${kind} file (${why})`);
  if (bytes.length < MAGIC.length + 4 + DIGEST_LENGTH) throw corrupt(`only ${bytes.length} bytes`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw corrupt('not an llmkit index file: bad magic bytes');
  }
  const bodyLength = bytes.length - DIGEST_LENGTH;
  const digest = createHash('sha256').update(bytes.subarray(0, bodyLength)).digest();
  for (let i = 0; i < DIGEST_LENGTH; i++) {
    if (digest[i] !== bytes[bodyLength + i]) throw corrupt('SHA-256 checksum mismatch');
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const headerStart = MAGIC.length + 4;
  if (headerStart + headerLength > bodyLength) throw corrupt('header runs past the end');
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength)),
  );
  if (header.kind !== kind) {
    throw new RagError(
      'corrupt_file',
      `${path}: holds a ${JSON.stringify(header.kind)} index, expected ${JSON.stringify(kind)}`,
    );
  }
  if (header.version !== version) {
    throw new RagError(
      'unsupported',
      `${path}: ${kind} file version ${header.version}, this build reads version ${version}`,
    );
  }
  // copy the payload so typed arrays over it are aligned
  const payload = bytes.slice(headerStart + headerLength, bodyLength);
  return { header, payload };
}

/** Reads `count` elements of a typed array at `offset` bytes of `payload` (a copy, aligned). */
export function readFloat32(payload: Uint8Array, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(payload.subarray(offset, offset + count * 4));
  return out;
}

/** Like {@link readFloat32} for Int32 data. */
export function readInt32(payload: Uint8Array, offset: number, count: number): Int32Array {
  const out = new Int32Array(count);
  new Uint8Array(out.buffer).set(payload.subarray(offset, offset + count * 4));
  return out;
}
