// Distance kernels in WebAssembly SIMD, assembled here from readable instructions (no binary blob
// to trust): negdot(a, b, n) = -(a . b) and l2(a, b, n) = |a - b|^2 over n float32 values at byte
// offsets a and b of a shared WebAssembly.Memory. The main loop takes 16 floats per turn into four
// f32x4 accumulators (independent add chains), then 4 at a time, then one at a time.
//
// In WAT, the loop body of negdot is, for j = 0..3:
//   (local.set $acc_j (f32x4.add (local.get $acc_j)
//     (f32x4.mul (v128.load offset=16j (local.get $a)) (v128.load offset=16j (local.get $b)))))
// Where WebAssembly SIMD is missing, `createSimdKernels` returns null and the graph uses plain JS.

/** The two kernels and the memory they read. */
export interface SimdKernels {
  /** -(a . b) over n floats at byte offsets a and b. */
  negdot: (a: number, b: number, n: number) => number;
  /** Squared Euclidean distance over n floats at byte offsets a and b. */
  l2: (a: number, b: number, n: number) => number;
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (text: string) => [...leb(text.length), ...new TextEncoder().encode(text)];
const section = (id: number, payload: number[]) => [id, ...leb(payload.length), ...payload];

// instructions
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const i32Const = (n: number) => [0x41, ...sleb(n)];
const i32Add = [0x6a];
const i32Shl = [0x74];
const i32ShrU = [0x76];
const i32GeU = [0x4f];
const f32Load = (offset: number) => [0x2a, 0x02, ...leb(offset)];
const f32Add = [0x92];
const f32Sub = [0x93];
const f32Mul = [0x94];
const f32Neg = [0x8c];
const v128Load = (offset: number) => [0xfd, 0x00, 0x02, ...leb(offset)]; // align hint 4 bytes
const f32x4Add = [0xfd, 0xe4, 0x01];
const f32x4Sub = [0xfd, 0xe5, 0x01];
const f32x4Mul = [0xfd, 0xe6, 0x01];
const f32x4Lane = (lane: number) => [0xfd, 0x1f, lane];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const br = (depth: number) => [0x0c, depth];
const brIf = (depth: number) => [0x0d, depth];
const end = [0x0b];

// locals: params a b n, then end16 end4 endAll (i32), acc0..acc3 diff (v128), tail d (f32)
const [A, B, N, END16, END4, END, ACC, DIFF, TAIL, D] = [0, 1, 2, 3, 4, 5, 6, 10, 11, 12];

/** Body of one kernel: `squared` false gives -(a . b), true gives |a - b|^2. */
// biome-ignore format: one line per WebAssembly statement reads like the WAT it stands for
function kernelBody(squared: boolean): number[] {
  // acc += a[offset] * b[offset]   or   acc += (a - b)^2, four lanes at a time
  const lanes = (acc: number, offset: number) => [
    ...get(acc), ...get(A), ...v128Load(offset), ...get(B), ...v128Load(offset),
    ...(squared ? [...f32x4Sub, ...tee(DIFF), ...get(DIFF)] : []),
    ...f32x4Mul, ...f32x4Add, ...set(acc),
  ];
  const advance = (bytes: number) => [
    ...get(A), ...i32Const(bytes), ...i32Add, ...set(A),
    ...get(B), ...i32Const(bytes), ...i32Add, ...set(B),
  ];
  const scalar = squared
    ? [...get(A), ...f32Load(0), ...get(B), ...f32Load(0), ...f32Sub, ...tee(D), ...get(D), ...f32Mul, ...get(TAIL), ...f32Add, ...set(TAIL)]
    : [...get(TAIL), ...get(A), ...f32Load(0), ...get(B), ...f32Load(0), ...f32Mul, ...f32Add, ...set(TAIL)];
  const code = [
    // end16 = a + (n >> 4 << 6), end4 = a + (n >> 2 << 4), end = a + (n << 2)
    ...get(A), ...get(N), ...i32Const(4), ...i32ShrU, ...i32Const(6), ...i32Shl, ...i32Add, ...set(END16),
    ...get(A), ...get(N), ...i32Const(2), ...i32ShrU, ...i32Const(4), ...i32Shl, ...i32Add, ...set(END4),
    ...get(A), ...get(N), ...i32Const(2), ...i32Shl, ...i32Add, ...set(END),
    // 16 floats a turn into four accumulators
    ...block, ...loop, ...get(A), ...get(END16), ...i32GeU, ...brIf(1),
    ...lanes(ACC, 0), ...lanes(ACC + 1, 16), ...lanes(ACC + 2, 32), ...lanes(ACC + 3, 48),
    ...advance(64), ...br(0), ...end, ...end,
    // then 4 at a time
    ...block, ...loop, ...get(A), ...get(END4), ...i32GeU, ...brIf(1),
    ...lanes(ACC, 0), ...advance(16), ...br(0), ...end, ...end,
    // then one at a time
    ...block, ...loop, ...get(A), ...get(END), ...i32GeU, ...brIf(1),
    ...scalar, ...advance(4), ...br(0), ...end, ...end,
    // acc0 = acc0 + acc1 + acc2 + acc3; result = lane0 + lane1 + lane2 + lane3 + tail
    ...get(ACC), ...get(ACC + 1), ...f32x4Add, ...get(ACC + 2), ...f32x4Add, ...get(ACC + 3), ...f32x4Add, ...set(ACC),
    ...get(ACC), ...f32x4Lane(0), ...get(ACC), ...f32x4Lane(1), ...f32Add, ...get(ACC), ...f32x4Lane(2), ...f32Add,
    ...get(ACC), ...f32x4Lane(3), ...f32Add, ...get(TAIL), ...f32Add,
    ...(squared ? [] : f32Neg),
    ...end,
  ];
  // locals: 3 x i32, 5 x v128, 2 x f32
  const locals = [3, ...leb(3), I32, ...leb(5), V128, ...leb(2), F32];
  const body = [...locals, ...code];
  return [...leb(body.length), ...body];
}

/** The module's bytes: imports env.memory, exports negdot and l2. */
export function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // "\0asm", version 1
    ...section(1, [1, 0x60, 3, I32, I32, I32, 1, F32]), // type 0: (i32 i32 i32) -> f32
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]), // memory, min 1 page
    ...section(3, [2, 0, 0]), // two functions of type 0
    ...section(7, [2, ...name('negdot'), 0x00, 0, ...name('l2'), 0x00, 1]),
    ...section(10, [2, ...kernelBody(false), ...kernelBody(true)]),
  ];
  return new Uint8Array(bytes);
}

/** Instantiates the kernels over `memory`, or returns null where WebAssembly SIMD is unavailable. */
export function createSimdKernels(memory: WebAssembly.Memory): SimdKernels | null {
  try {
    const bytes = simdModuleBytes();
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return instance.exports as unknown as SimdKernels;
  } catch {
    return null;
  }
}
