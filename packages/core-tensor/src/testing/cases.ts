// Conformance cases: every kernel on random inputs, including size-0 and size-1 dims, broadcast
// (stride-0), transposed and sliced inputs, and large and small magnitudes.
import type { KernelAttributes } from '../backend/types.js';
import {
  type DType,
  makeTypedArray,
  type TypedArray,
  toBfloat16Bits,
  toFloat16Bits,
} from '../dtype.js';
import { contiguousStrides, shapeSize } from '../shape.js';
import { Generator } from '../random.js';

/** A kernel tensor described on the host: its whole buffer plus the view of it. */
export interface TensorSpec {
  /** Element type. */
  dtype: DType;
  /** The buffer's full contents (storage representation). */
  data: TypedArray;
  /** View shape. */
  shape: number[];
  /** View strides in elements. */
  strides: number[];
  /** View offset in elements. */
  offset: number;
}

/** One kernel invocation to compare between a backend and the js reference. */
export interface ConformanceCase {
  /** Readable name, e.g. `binary add broadcast [3,1]+[1,4]`. */
  name: string;
  /** Kernel name. */
  kernel: string;
  /** Input tensors. */
  inputs: TensorSpec[];
  /** Output tensors with their initial buffer contents (a sentinel where the kernel must write). */
  outputs: TensorSpec[];
  /** Kernel attributes. */
  attributes: KernelAttributes;
  /** Relative tolerance for float outputs. */
  relativeTolerance: number;
  /** Absolute tolerance for float outputs. */
  absoluteTolerance: number;
  /** Indices of inputs that the kernel updates in place and must also match (adamw). */
  inPlaceInputs?: number[];
  /** Other kernels the case is only meaningful with (e.g. attention's logsumexp output is asked for only by backends with `attentionBackward`). */
  requires?: string[];
}

/** Builds specs from a seeded generator. */
class SpecMaker {
  readonly generator: Generator;

  constructor(seed: number) {
    this.generator = new Generator(seed);
  }

  /** A contiguous tensor of `shape` with values from `draw`. */
  dense(dtype: DType, shape: number[], draw?: () => number): TensorSpec {
    const n = shapeSize(shape);
    const data = makeTypedArray(dtype, n);
    const next = draw ?? (() => this.value(dtype));
    for (let i = 0; i < n; i++) write(data, dtype, i, next());
    return { dtype, data, shape, strides: contiguousStrides(shape), offset: 0 };
  }

  /** A default random value of `dtype`: N(0, 1) floats, small ints, random bools. */
  value(dtype: DType): number {
    const g = this.generator;
    if (dtype === 'bool') return g.nextFloat() < 0.5 ? 1 : 0;
    if (dtype === 'int32' || dtype === 'int8' || dtype === 'int64') return g.nextInt(-9, 10);
    if (dtype === 'uint8') return g.nextInt(0, 256);
    return g.nextNormal();
  }

  /** A transposed view: the buffer holds `shape` reversed in its last two dims. */
  transposed(dtype: DType, shape: number[], draw?: () => number): TensorSpec {
    const r = shape.length;
    const stored = [...shape.slice(0, -2), shape[r - 1], shape[r - 2]];
    const base = this.dense(dtype, stored, draw);
    const strides = base.strides.slice();
    [strides[r - 2], strides[r - 1]] = [strides[r - 1], strides[r - 2]];
    return { ...base, shape, strides };
  }

  /** A view of `shape` sliced out of a larger buffer (each dim padded by 2, offset inside). */
  sliced(dtype: DType, shape: number[], draw?: () => number): TensorSpec {
    const big = this.dense(
      dtype,
      shape.map((d) => d + 2),
      draw,
    );
    const offset = big.strides.reduce((s, stride) => s + stride, 0);
    return { ...big, shape, offset };
  }

  /** `spec` broadcast to `shape` through stride-0 dims (spec's own dims must be 1 or equal). */
  broadcast(spec: TensorSpec, shape: number[]): TensorSpec {
    const lead = shape.length - spec.shape.length;
    const strides = shape.map((d, i) =>
      i < lead || spec.shape[i - lead] !== d ? 0 : spec.strides[i - lead],
    );
    return { ...spec, shape, strides };
  }

  /** A contiguous output initialised with a sentinel the kernel must overwrite. */
  output(dtype: DType, shape: number[]): TensorSpec {
    return this.dense(dtype, shape, () => (dtype === 'bool' ? 1 : 7));
  }

  /** Values spread over many magnitudes: +-1e-30 .. +-1e30. */
  magnitudes(): () => number {
    return () => {
      const sign = this.generator.nextFloat() < 0.5 ? -1 : 1;
      return sign * 10 ** (this.generator.nextFloat() * 60 - 30);
    };
  }
}

function write(data: TypedArray, dtype: DType, i: number, v: number): void {
  if (dtype === 'float16') (data as Uint16Array)[i] = toFloat16Bits(v);
  else if (dtype === 'bfloat16') (data as Uint16Array)[i] = toBfloat16Bits(v);
  else if (dtype === 'int64') (data as BigInt64Array)[i] = BigInt(Math.trunc(v));
  else (data as Float64Array)[i] = v;
}

export { SpecMaker };

/**
 * A list of cases and the function the case files append with: equal relative and absolute
 * tolerance, optional in-place inputs and required companion kernels.
 */
export function caseList(): {
  cases: ConformanceCase[];
  add: (
    name: string,
    kernel: string,
    inputs: TensorSpec[],
    outputs: TensorSpec[],
    attributes?: KernelAttributes,
    tolerance?: number,
    extra?: Pick<ConformanceCase, 'inPlaceInputs' | 'requires'>,
  ) => void;
} {
  const cases: ConformanceCase[] = [];
  const add = (
    name: string,
    kernel: string,
    inputs: TensorSpec[],
    outputs: TensorSpec[],
    attributes: KernelAttributes = {},
    tolerance = 1e-5,
    extra: Pick<ConformanceCase, 'inPlaceInputs' | 'requires'> = {},
  ) => {
    cases.push({
      name,
      kernel,
      inputs,
      outputs,
      attributes,
      relativeTolerance: tolerance,
      absoluteTolerance: tolerance,
      ...extra,
    });
  };
  return { cases, add };
}
