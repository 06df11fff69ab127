// Element-wise kernels: fill, copy, cast, unary, binary, where. Inputs are strided views (merged
// to the lowest rank that walks them, see mergeDimensions); outputs are contiguous except copy's.
import type { DType } from '@llmkit/core-tensor';
import {
  type BinaryOp,
  type KernelAttributes,
  type KernelTensor,
  toFloat16Bits,
  type UnaryOp,
} from '@llmkit/core-tensor/backend';
import { type GpuBuffer, lanesPerWord, wordsPerElement } from '../buffers.js';
import { WebGpuError } from '../errors.js';
import { type Runtime, grid } from '../runtime.js';
import { ENTRY_256, MATH_WGSL, PARAMS_WGSL, STRIDED_WGSL, sizeOf, stridedParams } from '../wgsl.js';
import { CONVERT_WGSL, readExpression, writeStatements } from './convert-wgsl.js';
import { loadWgsl, storageKey, storeWgsl } from './packed-wgsl.js';

const gpuOf = (t: KernelTensor) => (t.buffer as GpuBuffer).gpu;

const f64View = new Float64Array(1);
const f64Words = new Uint32Array(f64View.buffer);

/** fill: every element of `out` = value, stored as out's dtype (computed here, on the CPU). */
export function fill(rt: Runtime, out: KernelTensor, value: number): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const words = wordsPerElement(out.dtype);
  let pattern: [number, number];
  switch (out.dtype) {
    case 'float64':
      f64View[0] = value;
      pattern = [f64Words[0], f64Words[1]];
      break;
    case 'int64': {
      const big = BigInt.asUintN(64, BigInt(Number.isFinite(value) ? Math.trunc(value) : 0));
      pattern = [Number(big & 0xffffffffn), Number(big >> 32n)];
      break;
    }
    default: {
      // Packed types repeat the element in every lane, so fill writes whole words (its output
      // is a fresh buffer: lanes past the last element are padding).
      const word = encodeWord(out.dtype, value) >>> 0;
      const lanes = lanesPerWord(out.dtype);
      if (lanes === 4) pattern = [((word & 0xff) * 0x01010101) >>> 0, 0];
      else if (lanes === 2) pattern = [((word & 0xffff) * 0x10001) >>> 0, 0];
      else pattern = [word, 0];
    }
  }
  const count = Math.ceil(n / lanesPerWord(out.dtype));
  rt.run({
    kernel: 'fill',
    key: `fill:${words}`,
    shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> O: array<u32>;
${ENTRY_256}
  if (id >= p(0u)) { return; }
  ${words === 2 ? 'O[2u * id] = p(1u); O[2u * id + 1u] = p(2u);' : 'O[id] = p(1u);'}
}`,
    buffers: [gpuOf(out)],
    params: [count, pattern[0], pattern[1]],
    workgroups: grid(count),
  });
}

const scratch = new Float32Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
const scratchInts = new Int32Array(scratch.buffer);
const scratch16 = new Uint16Array(1);

/** The stored 32-bit word of `value` as a one-word dtype. */
function encodeWord(dtype: DType, value: number): number {
  const int = Number.isFinite(value) ? Math.trunc(value) : 0;
  switch (dtype) {
    case 'float32':
      scratch[0] = value;
      return scratchWords[0];
    case 'bool':
      return value !== 0 ? 1 : 0;
    case 'int32':
      scratchInts[0] = int;
      return scratchWords[0];
    case 'int8':
      scratchInts[0] = (int << 24) >> 24;
      return scratchWords[0];
    case 'uint8':
      return int & 0xff;
    case 'float16':
    case 'bfloat16': {
      // Same rounding as core's encoders, through a one-element cast on the CPU.
      scratch[0] = value;
      const x = scratchWords[0];
      if (dtype === 'bfloat16') {
        if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
        return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
      }
      scratch16[0] = toFloat16Bits(value);
      return scratch16[0];
    }
    default:
      throw new WebGpuError('unsupported', `webgpu: fill of ${dtype}`);
  }
}

/** copy: strided x into the strided view `out` (same shape and dtype). */
export function copy(rt: Runtime, x: KernelTensor, out: KernelTensor): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const words = wordsPerElement(out.dtype);
  rt.run({
    kernel: 'copy',
    key: `copy:${storageKey(out.dtype)}`,
    shader: () => `${PARAMS_WGSL}${STRIDED_WGSL}
${loadWgsl('X', 1, out.dtype)}
${storeWgsl('O', 2, out.dtype)}
${ENTRY_256}
  if (id >= p(0u)) { return; }
  let src = stridedOffset(id, 8u);
  let dst = stridedOffset(id, 15u);
  ${words === 2 ? 'O[2u * dst] = X[2u * src]; O[2u * dst + 1u] = X[2u * src + 1u];' : 'store_O(dst, load_X(src));'}
}`,
    buffers: [gpuOf(x), gpuOf(out)],
    params: stridedParams([x, out], out.shape, 'copy'),
    workgroups: grid(n),
  });
}

/** cast: any stored dtype to any other (float64 goes through float32 precision). */
export function cast(rt: Runtime, x: KernelTensor, out: KernelTensor): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  let read = readExpression(x.dtype, 'load_X(src)', 'vec2<u32>(X[2u * src], X[2u * src + 1u])');
  const toFloat = ['float32', 'float16', 'bfloat16', 'float64'].includes(out.dtype);
  if (x.dtype === 'int64' && toFloat) {
    read = { kind: 'f', expr: 'i64ToF32(X[2u * src], X[2u * src + 1u])' };
  }
  const zeroTest =
    x.dtype === 'int64' || x.dtype === 'float64'
      ? `(X[2u * src] | (X[2u * src + 1u] & ${x.dtype === 'float64' ? '0x7fffffffu' : '0xffffffffu'})) != 0u`
      : undefined;
  rt.run({
    kernel: 'cast',
    key: `cast:${x.dtype}:${out.dtype}`,
    shader: () => `${PARAMS_WGSL}${STRIDED_WGSL}${CONVERT_WGSL}
${loadWgsl('X', 1, x.dtype)}
${storeWgsl('O', 2, out.dtype)}
${ENTRY_256}
  if (id >= p(0u)) { return; }
  let src = stridedOffset(id, 8u);
  let o = id;
  let v = ${read.expr};
  ${out.dtype === 'bool' && zeroTest ? `O[o] = select(0u, 1u, ${zeroTest});` : writeStatements(out.dtype, read.kind)}
}`,
    buffers: [gpuOf(x), gpuOf(out)],
    params: stridedParams([x], out.shape, 'cast'),
    workgroups: grid(n),
  });
}

const UNARY_F32: Record<Exclude<UnaryOp, 'not'>, string> = {
  neg: '-x',
  exp: 'exp(x)',
  log: 'log(x)',
  sqrt: 'sqrt(x)',
  rsqrt: '1.0 / sqrt(x)',
  abs: 'abs(x)',
  sign: 'select(select(x, -1.0, x < 0.0), 1.0, x > 0.0)',
  tanh: 'stableTanh(x)',
  sigmoid: '1.0 / (1.0 + exp(-x))',
  relu: 'select(x, 0.0, x < 0.0)',
  gelu: '0.5 * x * (1.0 + erfApprox(x * 0.7071067811865476))',
  geluTanh: '0.5 * x * (1.0 + stableTanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))',
  silu: 'x / (1.0 + exp(-x))',
  sin: 'sin(x)',
  cos: 'cos(x)',
  reciprocal: '1.0 / x',
  square: 'x * x',
  floor: 'floor(x)',
  erf: 'erfApprox(x)',
};

const UNARY_I32: Partial<Record<UnaryOp, string>> = { neg: '-x', abs: 'abs(x)', sign: 'sign(x)' };

/** unary: `op` applied to each element (float32; neg/abs/sign on int32; not on bool). */
export function unary(
  rt: Runtime,
  x: KernelTensor,
  out: KernelTensor,
  attrs: KernelAttributes,
): void {
  const op = attrs.op as UnaryOp;
  let load: string;
  let expr: string | undefined;
  let store: string;
  if (x.dtype === 'float32') {
    load = 'bitcast<f32>(X[src])';
    expr = op === 'not' ? undefined : UNARY_F32[op];
    store = 'bitcast<u32>(r)';
  } else if (x.dtype === 'int32') {
    load = 'bitcast<i32>(X[src])';
    expr = UNARY_I32[op];
    store = 'bitcast<u32>(r)';
  } else {
    load = 'X[src]';
    expr = op === 'not' ? 'select(1u, 0u, x != 0u)' : undefined;
    store = 'r';
  }
  if (!expr) {
    throw new WebGpuError(
      'unsupported',
      `webgpu: unary ${String(op)} on ${x.dtype} is not a kernel of this backend`,
    );
  }
  const n = sizeOf(out.shape);
  if (n === 0) return;
  rt.run({
    kernel: 'unary',
    key: `unary:${op}:${x.dtype}`,
    shader: () => `${PARAMS_WGSL}${STRIDED_WGSL}${MATH_WGSL}
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> O: array<u32>;
${ENTRY_256}
  if (id >= p(0u)) { return; }
  let src = stridedOffset(id, 8u);
  let x = ${load};
  let r = ${expr};
  O[id] = ${store};
}`,
    buffers: [gpuOf(x), gpuOf(out)],
    params: stridedParams([x], out.shape, 'unary'),
    workgroups: grid(n),
  });
}

const COMPARE: Partial<Record<BinaryOp, string>> = {
  eq: 'a == b',
  ne: 'a != b',
  lt: 'a < b',
  le: 'a <= b',
  gt: 'a > b',
  ge: 'a >= b',
};

function binaryExpression(op: BinaryOp, dtype: DType): string | undefined {
  if (COMPARE[op]) return `select(0u, 1u, ${COMPARE[op]})`;
  if (dtype === 'bool') {
    if (op === 'and') return 'select(0u, 1u, a != 0u && b != 0u)';
    if (op === 'or') return 'select(0u, 1u, a != 0u || b != 0u)';
    return undefined;
  }
  const asWord = (e: string) => `bitcast<u32>(${e})`;
  if (dtype === 'int32') {
    const ops: Partial<Record<BinaryOp, string>> = {
      add: 'a + b',
      sub: 'a - b',
      mul: 'a * b',
      div: 'select(a / b, 0, b == 0)',
      pow: 'truncToI32(powJs(f32(a), f32(b)))',
      maximum: 'max(a, b)',
      minimum: 'min(a, b)',
    };
    return ops[op] && asWord(ops[op]);
  }
  const ops: Partial<Record<BinaryOp, string>> = {
    add: 'a + b',
    sub: 'a - b',
    mul: 'a * b',
    div: 'a / b',
    pow: 'powJs(a, b)',
    maximum: 'select(select(b, a, a > b), a, isNan(a))',
    minimum: 'select(select(b, a, a < b), a, isNan(a))',
  };
  return ops[op] && asWord(ops[op]);
}

function loadAs(dtype: DType, word: string): string {
  if (dtype === 'float32') return `bitcast<f32>(${word})`;
  if (dtype === 'int32') return `bitcast<i32>(${word})`;
  return word;
}

/** binary: `op` on a and b (already broadcast); comparisons output bool. */
export function binary(
  rt: Runtime,
  a: KernelTensor,
  b: KernelTensor,
  out: KernelTensor,
  attrs: KernelAttributes,
): void {
  const op = attrs.op as BinaryOp;
  const expr = binaryExpression(op, a.dtype);
  if (!expr)
    throw new WebGpuError(
      'unsupported',
      `webgpu: binary ${String(op)} on ${a.dtype} is not a kernel of this backend`,
    );
  const n = sizeOf(out.shape);
  if (n === 0) return;
  rt.run({
    kernel: 'binary',
    key: `binary:${op}:${a.dtype}`,
    shader: () => `${PARAMS_WGSL}${STRIDED_WGSL}${MATH_WGSL}${CONVERT_WGSL}
@group(0) @binding(1) var<storage, read> A: array<u32>;
@group(0) @binding(2) var<storage, read> B: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<u32>;
${ENTRY_256}
  if (id >= p(0u)) { return; }
  let a = ${loadAs(a.dtype, 'A[stridedOffset(id, 8u)]')};
  let b = ${loadAs(b.dtype, 'B[stridedOffset(id, 15u)]')};
  O[id] = ${expr};
}`,
    buffers: [gpuOf(a), gpuOf(b), gpuOf(out)],
    params: stridedParams([a, b], out.shape, 'binary'),
    workgroups: grid(n),
  });
}

/** where: condition ? a : b, all broadcast to out's shape. */
export function where(
  rt: Runtime,
  condition: KernelTensor,
  a: KernelTensor,
  b: KernelTensor,
  out: KernelTensor,
): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const words = wordsPerElement(out.dtype);
  rt.run({
    kernel: 'where',
    key: `where:${storageKey(out.dtype)}`,
    shader: () => `${PARAMS_WGSL}${STRIDED_WGSL}
@group(0) @binding(1) var<storage, read> C: array<u32>;
${loadWgsl('A', 2, out.dtype)}
${loadWgsl('B', 3, out.dtype)}
${storeWgsl('O', 4, out.dtype)}
${ENTRY_256}
  if (id >= p(0u)) { return; }
  let keep = C[stridedOffset(id, 8u)] != 0u;
  let ia = stridedOffset(id, 15u);
  let ib = stridedOffset(id, 22u);
  ${
    words === 2
      ? 'O[2u * id] = select(B[2u * ib], A[2u * ia], keep); O[2u * id + 1u] = select(B[2u * ib + 1u], A[2u * ia + 1u], keep);'
      : 'store_O(id, select(load_B(ib), load_A(ia), keep));'
  }
}`,
    buffers: [gpuOf(condition), gpuOf(a), gpuOf(b), gpuOf(out)],
    params: stridedParams([condition, a, b], out.shape, 'where'),
    workgroups: grid(n),
  });
}
