// Creating tensors: from data, constant fills, ranges and seeded random values.
import { findBackend, getBackend } from '../backend/registry.js';
import type { Backend } from '../backend/types.js';
import {
  type DType,
  fromBfloat16Bits,
  fromFloat16Bits,
  makeTypedArray,
  type TypedArray,
  toBfloat16Bits,
  toFloat16Bits,
  typedArrayMatches,
} from '../dtype.js';
import { formatShape, TensorError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { checkShape, type Shape, shapeSize } from '../shape.js';
import type { NestedArray, Tensor } from '../tensor.js';
import { allocate, allocateZeros } from './kernel.js';

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Element type (default `float32`; `bool` for boolean data, the array's type for typed arrays). */
  dtype?: DType;
  /** Whether the new tensor is a leaf that wants a gradient (default false). */
  requiresGrad?: boolean;
  /** Backend name (default: the active backend). */
  backend?: string;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** Generator to draw from (default: the global one `manualSeed` seeds). */
  generator?: Generator;
}

function pickBackend(options: CreateOptions): Backend {
  return options.backend ? findBackend(options.backend) : getBackend();
}

/** Converts numbers to the storage representation of `dtype`. */
export function encodeValues(dtype: DType, values: ArrayLike<number | boolean>): TypedArray {
  const out = makeTypedArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (dtype === 'float16') (out as Uint16Array)[i] = toFloat16Bits(v);
    else if (dtype === 'bfloat16') (out as Uint16Array)[i] = toBfloat16Bits(v);
    else if (dtype === 'int64') (out as BigInt64Array)[i] = BigInt(Math.trunc(v));
    else if (dtype === 'bool') (out as Uint8Array)[i] = v ? 1 : 0;
    else (out as Float64Array)[i] = v;
  }
  return out;
}

/** Converts stored values to numbers (booleans for bool). */
export function decodeValues(dtype: DType, data: TypedArray): (number | boolean)[] {
  const out = new Array<number | boolean>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (dtype === 'float16') out[i] = fromFloat16Bits(v as number);
    else if (dtype === 'bfloat16') out[i] = fromBfloat16Bits(v as number);
    else if (dtype === 'bool') out[i] = v !== 0;
    else out[i] = Number(v);
  }
  return out;
}

/** Turns row-major `flat` values into nested arrays of `shape`. */
export function nest(flat: readonly (number | boolean)[], shape: Shape): NestedArray {
  if (shape.length === 0) return flat[0];
  const build = (dim: number, start: number): NestedArray[] => {
    const stride = shapeSize(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < shape[dim]; i++) {
      out.push(dim === shape.length - 1 ? flat[start + i] : build(dim + 1, start + i * stride));
    }
    return out;
  };
  return build(0, 0);
}

function inferShape(data: unknown): number[] {
  const shape: number[] = [];
  let level = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(data: unknown, shape: number[], dim: number, out: (number | boolean)[]): void {
  if (dim === shape.length) {
    if (typeof data !== 'number' && typeof data !== 'boolean') {
      throw new TensorError(
        'invalid_argument',
        `tensor: expected a number or boolean, got ${typeof data}`,
      );
    }
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new TensorError(
      'invalid_argument',
      `tensor: ragged nested array: expected length ${shape[dim]} at depth ${dim} of shape ${formatShape(shape)}`,
    );
  }
  for (const item of data) flatten(item, shape, dim + 1, out);
}

function typedArrayDType(data: TypedArray): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof BigInt64Array) return 'int64';
  return 'float32';
}

/** Creates a tensor holding `values` (already in row-major order) with `shape`. */
export function fromValues(
  values: ArrayLike<number | boolean> | TypedArray,
  shape: Shape,
  options: CreateOptions = {},
): Tensor {
  checkShape(shape, 'tensor');
  const dtype = options.dtype ?? 'float32';
  if (values.length !== shapeSize(shape)) {
    throw new TensorError(
      'shape_mismatch',
      `tensor: ${values.length} values do not fill shape ${formatShape(shape)} (${shapeSize(shape)} elements)`,
    );
  }
  const backend = pickBackend(options);
  const t = allocate(backend, shape, dtype);
  // Typed arrays of the dtype's storage type are raw storage (float16 as Uint16Array bits);
  // bool is re-encoded so that every true is stored as 1.
  const raw =
    ArrayBuffer.isView(values) &&
    typedArrayMatches(dtype, values as TypedArray) &&
    dtype !== 'bool';
  const data = raw ? (values as TypedArray) : encodeValues(dtype, values as ArrayLike<number>);
  backend.write(t.storage.buffer, data);
  if (options.requiresGrad) t.requiresGrad_();
  return t;
}

/** Options of {@link tensor}. */
export interface TensorOptions extends CreateOptions {
  /** Shape of flat data (default: inferred from nesting, or `[length]` for flat data). */
  shape?: Shape;
}

/**
 * Creates a tensor from nested arrays, a flat array with `shape`, a typed array or a number.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);               // float32 [2,3]
 * const ids = tensor([1, 2, 3], { dtype: 'int32' });
 * const w = tensor(new Float32Array(6), { shape: [2, 3] });
 * ```
 */
export function tensor(data: NestedArray | TypedArray, options: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    const dtype = options.dtype ?? typedArrayDType(typed);
    return fromValues(typed, options.shape ?? [typed.length], { ...options, dtype });
  }
  const inferred = inferShape(data);
  const flat: (number | boolean)[] = [];
  flatten(data, inferred, 0, flat);
  const dtype = options.dtype ?? (typeof flat[0] === 'boolean' ? 'bool' : 'float32');
  return fromValues(flat, options.shape ?? inferred, { ...options, dtype });
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * ```ts
 * const halves = full([2, 2], 0.5);
 * ```
 */
export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  checkShape(shape, 'full');
  const backend = pickBackend(options);
  const dtype = options.dtype ?? 'float32';
  // zeros come from fresh memory where the backend can (untouched pages cost nothing until used)
  const zeroed = value === 0 ? allocateZeros(backend, shape, dtype) : null;
  const t = zeroed ?? allocate(backend, shape, dtype);
  if (!zeroed) backend.run('fill', [], [t.kernelView()], { value });
  if (options.requiresGrad) t.requiresGrad_();
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros with the shape, dtype and backend of `like`. */
export function zerosLike(like: Tensor, options: CreateOptions = {}): Tensor {
  return full(like.shape, 0, { dtype: like.dtype, backend: like.backend.name, ...options });
}

/** Ones with the shape, dtype and backend of `like`. */
export function onesLike(like: Tensor, options: CreateOptions = {}): Tensor {
  return full(like.shape, 1, { dtype: like.dtype, backend: like.backend.name, ...options });
}

/** A scalar (shape `[]`) with the dtype and backend of `like`. */
export function scalarLike(value: number, like: Tensor): Tensor {
  return full([], value, { dtype: like.dtype, backend: like.backend.name });
}

/**
 * Values from `start` to `end` (exclusive) by `step`; `arange(n)` is 0..n-1.
 *
 * @example
 * ```ts
 * arange(5); // [0, 1, 2, 3, 4]
 * ```
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new TensorError('invalid_argument', 'arange: step must not be 0');
  const count = Math.max(0, Math.ceil((end - start) / step));
  const values = Array.from({ length: count }, (_, i) => start + i * step);
  return fromValues(values, [count], options);
}

/** An identity matrix of `n` rows and `m` (default `n`) columns. */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const values = new Array<number>(n * m).fill(0);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return fromValues(values, [n, m], options);
}

function randomTensor(
  shape: Shape,
  options: RandomOptions,
  draw: (g: Generator) => number,
): Tensor {
  checkShape(shape, 'random');
  const generator = options.generator ?? defaultGenerator;
  const values = new Float64Array(shapeSize(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw(generator);
  return fromValues(values, shape, options);
}

/**
 * Standard normal samples; streams are produced in core, so every backend sees the same values.
 *
 * @example
 * ```ts
 * manualSeed(0);
 * const w = randn([3, 4]);
 * ```
 */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  return randomTensor(shape, options, (g) => g.nextNormal());
}

/** Uniform samples in [0, 1). */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  return randomTensor(shape, options, (g) => g.nextFloat());
}

/** Uniform integers in [low, high) (dtype `int32` unless given). */
export function randint(
  low: number,
  high: number,
  shape: Shape,
  options: RandomOptions = {},
): Tensor {
  if (!(high > low))
    throw new TensorError('invalid_argument', `randint: high ${high} must exceed low ${low}`);
  return randomTensor(shape, { dtype: 'int32', ...options }, (g) => g.nextInt(low, high));
}
