// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] },
// "__metadata__": { key: value } }`, then the tensor bytes. No code runs when a file loads, and
// the parser below checks everything a hostile file could get wrong before touching the data.
import { DTYPE_BYTES, type DType, makeTypedArray, type TypedArray } from '../dtype.js';
import { formatShape, TensorError, type TensorErrorCode } from '../errors.js';

/** safetensors dtype names and the dtype each maps to. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, DType>> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

const NAME_OF: Record<DType, string> = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPES).map(([name, dtype]) => [dtype, name]),
) as Record<DType, string>;

/** One tensor of a safetensors file, before it is put on a backend. */
export interface SafetensorsEntry {
  /** Element type. */
  dtype: DType;
  /** Shape. */
  shape: number[];
  /** The elements; a view of the file's bytes when they are aligned (no copy), else a copy. */
  data: TypedArray;
}

/** A parsed safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in file order. */
  tensors: Record<string, SafetensorsEntry>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** The most header bytes accepted (the reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

function fail(message: string, code: TensorErrorCode = 'corrupt_file'): never {
  throw new TensorError(code, `safetensors: ${message}`);
}

function checkLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    fail('big-endian platforms are not supported', 'unsupported');
}

/**
 * Parses and validates safetensors bytes: the header length is bounded by the file, the header is
 * a JSON object naming each tensor once, every tensor has a known dtype, non-negative integer
 * dims and a byte size equal to dtype size x element count, and the tensors' byte ranges are
 * ordered, non-overlapping and cover the data exactly. Throws a `TensorError` with code `corrupt_file` naming the problem.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = parseSafetensors(bytes);
 * console.log(tensors['wte.weight'].shape);
 * ```
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  const { specs, metadata, dataStart } = parseSafetensorsLayout(bytes, bytes.length);
  const tensors: Record<string, SafetensorsEntry> = {};
  for (const [name, spec] of Object.entries(specs)) {
    tensors[name] = {
      dtype: spec.dtype,
      shape: spec.shape,
      data: typedView(bytes, dataStart + spec.begin, spec.end - spec.begin, spec.dtype),
    };
  }
  return { tensors, metadata };
}

/** Where one tensor of a safetensors file lies: bytes `[begin, end)` after the header. */
export interface SafetensorsSpan {
  /** Element type. */
  dtype: DType;
  /** Shape. */
  shape: number[];
  /** First byte, counted from the end of the header. */
  begin: number;
  /** One past the last byte, counted from the end of the header. */
  end: number;
}

/** A safetensors file's header, checked against the file's length: what a streaming reader needs. */
export interface SafetensorsLayout {
  /** Tensors by name, in header order. */
  specs: Record<string, SafetensorsSpan>;
  /** The `__metadata__` string map. */
  metadata: Record<string, string>;
  /** File offset of the first data byte (8 + the header length). */
  dataStart: number;
}

/**
 * The 8-byte header length N of a safetensors file of `fileLength` bytes, from its first 8 bytes,
 * checked against the file and {@link MAX_HEADER_BYTES}: the reader then reads 8 + N bytes.
 */
export function safetensorsHeaderLength(first: Uint8Array, fileLength: number): number {
  checkLittleEndian();
  if (fileLength < 8 || first.length < 8)
    fail(`file of ${fileLength} bytes is too short for the 8-byte header length`);
  const view = new DataView(first.buffer, first.byteOffset, 8);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(fileLength - 8)) {
    fail(
      `header length ${headerLength} exceeds the ${fileLength - 8} bytes after the length field`,
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  return Number(headerLength);
}

/**
 * Parses and validates the header of a safetensors file of `fileLength` bytes from its first
 * 8 + N bytes (`bytes` may hold more): every check of {@link parseSafetensors}, without reading
 * the tensor data, so a loader can stream each tensor to its final buffer.
 *
 * @example
 * ```ts
 * const { specs, dataStart } = parseSafetensorsLayout(prefix, (await stat(path)).size);
 * ```
 */
export function parseSafetensorsLayout(bytes: Uint8Array, fileLength: number): SafetensorsLayout {
  const n = safetensorsHeaderLength(bytes, fileLength);
  if (bytes.length < 8 + n) fail(`header needs ${8 + n} bytes, got ${bytes.length}`);
  const headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  if (!headerText.startsWith('{')) fail('header does not start with a JSON object');
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail('header is not a JSON object');
  checkDuplicateNames(headerText, header as Record<string, unknown>);
  const dataStart = 8 + n;
  const dataLength = fileLength - dataStart;
  const metadata: Record<string, string> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  const specs: Record<string, SafetensorsSpan> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
        fail('__metadata__ is not an object');
      for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`__metadata__ value of '${key}' is not a string`);
        metadata[key] = value;
      }
      continue;
    }
    specs[name] = checkEntry(name, raw);
    ranges.push({ name, begin: specs[name].begin, end: specs[name].end });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  for (const r of ranges) {
    if (r.begin < position)
      fail(
        `tensor '${r.name}' bytes [${r.begin}, ${r.end}) overlap the previous tensor (ends at ${position})`,
      );
    if (r.begin > position)
      fail(`bytes [${position}, ${r.begin}) before tensor '${r.name}' belong to no tensor`);
    position = r.end;
  }
  if (position !== dataLength) {
    fail(
      position > dataLength
        ? `tensor data ends at ${position}, past the ${dataLength} data bytes of the file`
        : `data has ${dataLength} bytes but tensors cover ${position}`,
    );
  }
  return { specs, metadata, dataStart };
}

/**
 * JSON.parse keeps the last of two equal keys, so a header naming a tensor twice would silently
 * lose one. Every tensor entry has exactly one `"data_offsets":` key, so more of those in the text
 * than entries parsed means a duplicate name. (A quote inside a JSON string is escaped, so string
 * values cannot fake the pattern; a metadata key of that name is counted.)
 */
function checkDuplicateNames(text: string, header: Record<string, unknown>): void {
  const occurrences = text.match(/(?<!\\)"data_offsets"\s*:/g)?.length ?? 0;
  const metadata = header.__metadata__;
  const metadataKey =
    metadata && typeof metadata === 'object' && 'data_offsets' in metadata ? 1 : 0;
  const entries = Object.keys(header).filter((k) => k !== '__metadata__').length;
  if (occurrences > entries + metadataKey) fail('header names a tensor more than once');
}

function checkEntry(name: string, raw: unknown): SafetensorsSpan {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail(`entry '${name}' is not an object`);
  const { dtype: dtypeName, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtypeName !== 'string' || !(dtypeName in SAFETENSORS_DTYPES)) {
    fail(
      `tensor '${name}' has unknown dtype ${JSON.stringify(dtypeName)} (supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`,
    );
  }
  const dtype = SAFETENSORS_DTYPES[dtypeName];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}' has shape ${JSON.stringify(shape)}; expected non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin)
    fail(`tensor '${name}' has data_offsets [${begin}, ${end}] with end before begin`);
  // Element count times dtype size, with overflow checked in BigInt.
  let expected = BigInt(DTYPE_BYTES[dtype]);
  for (const d of shape as number[]) expected *= BigInt(d);
  if (expected !== BigInt(end - begin)) {
    fail(
      `tensor '${name}' (${dtypeName} ${formatShape(shape as number[])}) needs ${expected} bytes but data_offsets span ${end - begin}`,
    );
  }
  return { dtype, shape: (shape as number[]).slice(), begin, end };
}

/** A typed array over `byteLength` bytes at `offset`: a view when aligned, else a copy. */
function typedView(
  bytes: Uint8Array,
  offset: number,
  byteLength: number,
  dtype: DType,
): TypedArray {
  const size = DTYPE_BYTES[dtype];
  const absolute = bytes.byteOffset + offset;
  const Ctor = makeTypedArray(dtype, 0).constructor as new (
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ) => TypedArray;
  if (absolute % size === 0) return new Ctor(bytes.buffer, absolute, byteLength / size);
  const copy = new Uint8Array(byteLength);
  copy.set(bytes.subarray(offset, offset + byteLength));
  return new Ctor(copy.buffer, 0, byteLength / size);
}

/**
 * Serialises raw tensors (typed arrays in the dtype's storage type) to safetensors bytes. Like the
 * reference implementation, tensors are ordered by element size (largest first) then name, and
 * the header is padded with spaces to a multiple of 8, so every tensor is aligned to its element
 * size and readers can view the bytes without copying.
 */
export function serializeSafetensors(
  tensors: Record<string, SafetensorsEntry>,
  metadata: Record<string, string> = {},
): Uint8Array {
  checkLittleEndian();
  const names = Object.keys(tensors).sort(
    (a, b) =>
      DTYPE_BYTES[tensors[b].dtype] - DTYPE_BYTES[tensors[a].dtype] || (a < b ? -1 : a > b ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const { dtype, shape, data } = tensors[name];
    if (name === '__metadata__')
      fail("a tensor cannot be named '__metadata__'", 'invalid_argument');
    const expected = shape.reduce((a, d) => a * d, 1);
    if (data.length !== expected)
      fail(
        `tensor '${name}' has ${data.length} elements, shape ${formatShape(shape)} needs ${expected}`,
        'invalid_argument',
      );
    header[name] = {
      dtype: NAME_OF[dtype],
      shape,
      data_offsets: [offset, offset + data.byteLength],
    };
    offset += data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let position = 8 + json.length;
  for (const name of names) {
    const { data } = tensors[name];
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}
