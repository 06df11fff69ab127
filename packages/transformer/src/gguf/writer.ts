// A minimal GGUF (version 3) writer, per llama.cpp's docs/gguf.md: "GGUF" magic, version, tensor
// count, metadata key/values, tensor infos (name, dims innermost first, type, offset), padding to
// the alignment, then the tensor data with each tensor aligned. Little-endian throughout.

/** GGUF metadata value types. */
const TYPE = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10 } as const;

/** GGML tensor types written here (Q4_0 and Q8_0 blocks come from @llmkit/quantize). */
export const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 } as const;

/** A metadata value: its GGUF type is chosen from the tag. */
export type GgufValue =
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'int32[]'; value: readonly number[] };

/** One tensor to write: shape in row-major (PyTorch) order and its raw little-endian bytes. */
export interface GgufTensor {
  /** Name, e.g. `blk.0.attn_qkv.weight`. */
  name: string;
  /** Row-major shape (written reversed, as GGUF lists the innermost dimension first). */
  shape: readonly number[];
  /** One of {@link GGML_TYPE}. */
  type: number;
  /** The elements' bytes. */
  data: Uint8Array;
}

/** The alignment of tensor data (GGUF's default, `general.alignment`). */
export const GGUF_ALIGNMENT = 32;

class ByteWriter {
  private chunks: Uint8Array[] = [];
  length = 0;
  private scratch = new DataView(new ArrayBuffer(8));
  private encoder = new TextEncoder();

  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  private fixed(size: number, set: (view: DataView) => void): void {
    set(this.scratch);
    this.bytes(new Uint8Array(this.scratch.buffer.slice(0, size)));
  }
  u32(v: number): void {
    this.fixed(4, (d) => d.setUint32(0, v, true));
  }
  i32(v: number): void {
    this.fixed(4, (d) => d.setInt32(0, v, true));
  }
  f32(v: number): void {
    this.fixed(4, (d) => d.setFloat32(0, v, true));
  }
  u64(v: number): void {
    this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const b = this.encoder.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(alignment: number): void {
    const extra = (alignment - (this.length % alignment)) % alignment;
    if (extra) this.bytes(new Uint8Array(extra));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function writeValue(w: ByteWriter, value: GgufValue): void {
  switch (value.type) {
    case 'uint32':
      w.u32(TYPE.UINT32);
      w.u32(value.value);
      return;
    case 'int32':
      w.u32(TYPE.INT32);
      w.i32(value.value);
      return;
    case 'float32':
      w.u32(TYPE.FLOAT32);
      w.f32(value.value);
      return;
    case 'bool':
      w.u32(TYPE.BOOL);
      w.bytes(new Uint8Array([value.value ? 1 : 0]));
      return;
    case 'string':
      w.u32(TYPE.STRING);
      w.string(value.value);
      return;
    case 'string[]':
      w.u32(TYPE.ARRAY);
      w.u32(TYPE.STRING);
      w.u64(value.value.length);
      for (const s of value.value) w.string(s);
      return;
    case 'int32[]':
      w.u32(TYPE.ARRAY);
      w.u32(TYPE.INT32);
      w.u64(value.value.length);
      for (const v of value.value) w.i32(v);
      return;
  }
}

/**
 * The GGUF header (magic, version, counts, metadata, tensor infos, padding) for `tensors`; their
 * data follows, each padded to {@link GGUF_ALIGNMENT}, in the same order.
 */
export function ggufHeader(
  metadata: Readonly<Record<string, GgufValue>>,
  tensors: readonly GgufTensor[],
): Uint8Array {
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode('GGUF'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    w.string(key);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offset += t.data.length;
    offset += (GGUF_ALIGNMENT - (offset % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
  }
  w.pad(GGUF_ALIGNMENT);
  return w.concat();
}

/** Zero bytes that pad `length` up to the alignment. */
export function paddingAfter(length: number): Uint8Array {
  return new Uint8Array((GGUF_ALIGNMENT - (length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT);
}
