// quantizeWeight / dequantizeWeight: one entry point over every format's quantizer.
import { QuantizeError } from '../errors.js';
import { dequantizeQ4_0, dequantizeQ8_0, quantizeQ4_0, quantizeQ8_0 } from './ggml.js';
import { dequantizeHalf, quantizeHalf } from './half.js';
import { dequantizeInt4, quantizeInt4 } from './int4.js';
import { dequantizeInt8, quantizeInt8 } from './int8.js';
import {
  dequantizeNf4,
  dequantizeScales,
  type QuantizedScales,
  quantizeNf4,
  quantizeScales,
} from './nf4.js';
import {
  checkShape,
  type PackedArray,
  partSpecs,
  type QuantizedWeight,
  type QuantizeOptions,
  resolveQuantizeOptions,
} from './types.js';

/**
 * Quantizes a row-major `[rows, columns]` float weight (PyTorch's Linear layout: a row per
 * output channel). Throws `invalid_config` for an unknown format or option and
 * `invalid_argument` when the group size does not divide `columns`.
 *
 * @example
 * ```ts
 * const q = quantizeWeight(Float32Array.of(0.5, -1, 0.25, 1), [2, 2], { format: 'int8' });
 * console.log(q.parts.weight, q.parts.scales); // Int8Array [64, -127, 32, 127], Float32Array [0.007874, 0.007874]
 * ```
 */
export function quantizeWeight(
  values: Float32Array,
  shape: readonly [number, number],
  options: QuantizeOptions,
): QuantizedWeight {
  const resolved = resolveQuantizeOptions(options);
  checkShape(resolved, shape);
  const [rows, columns] = shape;
  if (values.length !== rows * columns)
    throw new QuantizeError(
      'invalid_argument',
      `quantizeWeight: ${values.length} values for shape [${rows},${columns}] (expected ${rows * columns})`,
    );
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw new QuantizeError(
        'invalid_data',
        `quantizeWeight: element ${i} is ${values[i]}; only finite weights can be quantized`,
      );
  }
  let parts: Record<string, PackedArray>;
  switch (resolved.format) {
    case 'fp16':
    case 'bf16':
      parts = { weight: quantizeHalf(values, resolved.format) };
      break;
    case 'int8':
      parts = { ...quantizeInt8(values, rows, columns) };
      break;
    case 'int4':
      parts = { ...quantizeInt4(values, rows, columns, resolved.groupSize, resolved.symmetric) };
      break;
    case 'nf4': {
      const { weight, absmax } = quantizeNf4(values, resolved.groupSize);
      parts = resolved.doubleQuantization
        ? { weight, ...quantizeScales(absmax) }
        : { weight, absmax };
      break;
    }
    case 'q8_0':
      parts = { weight: quantizeQ8_0(values) };
      break;
    case 'q4_0':
      parts = { weight: quantizeQ4_0(values) };
      break;
  }
  return { options: resolved, shape: [rows, columns], parts };
}

/**
 * The float32 weight `[rows, columns]` (row-major) a quantized weight stands for.
 *
 * @example
 * ```ts
 * const q = quantizeWeight(Float32Array.of(0.5, -1, 0.25, 1), [2, 2], { format: 'int8' });
 * console.log(dequantizeWeight(q)); // Float32Array [0.5039, -1, 0.252, 1]
 * ```
 */
export function dequantizeWeight(weight: QuantizedWeight): Float32Array {
  checkParts(weight, 'dequantizeWeight');
  const { options, parts } = weight;
  const [rows, columns] = weight.shape;
  switch (options.format) {
    case 'fp16':
    case 'bf16':
      return dequantizeHalf(parts.weight as Uint16Array, options.format);
    case 'int8':
      return dequantizeInt8(parts.weight as Int8Array, parts.scales as Float32Array, rows, columns);
    case 'int4':
      return dequantizeInt4(
        {
          weight: parts.weight as Uint8Array,
          scales: parts.scales as Float32Array,
          minimums: parts.minimums as Float32Array | undefined,
        },
        rows,
        columns,
        options.groupSize,
      );
    case 'nf4':
      return dequantizeNf4(
        { weight: parts.weight as Uint8Array, absmax: nf4Absmax(weight) },
        options.groupSize,
      );
    case 'q8_0':
      return dequantizeQ8_0(parts.weight as Uint8Array);
    case 'q4_0':
      return dequantizeQ4_0(parts.weight as Uint8Array);
  }
}

/** The float32 absmax of an nf4 weight (expanding doubly quantized scales). */
export function nf4Absmax(weight: QuantizedWeight): Float32Array {
  const { parts } = weight;
  if (!weight.options.doubleQuantization) return parts.absmax as Float32Array;
  return dequantizeScales(parts as unknown as QuantizedScales);
}

const ARRAY_DTYPE: Record<string, string> = {
  float32: 'Float32Array',
  float16: 'Uint16Array',
  bfloat16: 'Uint16Array',
  int8: 'Int8Array',
  uint8: 'Uint8Array',
};

/**
 * Throws `corrupt_file` unless `weight.parts` holds exactly the parts its format and shape call
 * for, each of the right type and length.
 *
 * @example
 * ```ts
 * checkParts({ ...q, parts: { weight: new Int8Array(3) } }); // throws: ... part 'weight' has 3 elements, expected 4
 * ```
 */
export function checkParts(weight: QuantizedWeight, where = 'quantized weight'): void {
  const specs = partSpecs(weight.options, weight.shape);
  const have = Object.keys(weight.parts).sort().join(', ');
  const want = Object.keys(specs).sort().join(', ');
  if (have !== want)
    throw new QuantizeError(
      'corrupt_file',
      `${where}: format '${weight.options.format}' has parts ${want}, got ${have || 'none'}`,
    );
  for (const [name, spec] of Object.entries(specs)) {
    const part = weight.parts[name];
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (part.constructor.name !== ARRAY_DTYPE[spec.dtype] || part.length !== size)
      throw new QuantizeError(
        'corrupt_file',
        `${where}: part '${name}' of a '${weight.options.format}' weight [${weight.shape.join(',')}] is ${part.constructor.name}(${part.length}), expected ${ARRAY_DTYPE[spec.dtype]}(${size}) (${spec.dtype} [${spec.shape.join(',')}])`,
      );
  }
}
