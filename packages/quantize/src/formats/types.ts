// What a quantized weight is: a format, the float shape [rows, columns] (PyTorch's Linear layout
// [outFeatures, inFeatures]: one row per output channel) and named packed parts. Every format
// quantizes along a row, so a row's dot product with an input reads only that row's bytes.
import type { DType } from '@llmkit/core-tensor';
import { checkBoolean, checkChoice, checkNumber, rejectUnknownKeys } from '@llmkit/utils';
import { QuantizeError } from '../errors.js';

/** The weight formats, in bits per weight: fp16/bf16 16, int8 8, int4/nf4 4, q8_0 8.5, q4_0 4.5. */
export const QUANT_FORMATS = ['fp16', 'bf16', 'int8', 'int4', 'nf4', 'q8_0', 'q4_0'] as const;

/** One of {@link QUANT_FORMATS}. */
export type QuantFormat = (typeof QUANT_FORMATS)[number];

/** How to quantize a weight. */
export interface QuantizeOptions {
  /** The format (see {@link QUANT_FORMATS}). */
  format: QuantFormat;
  /**
   * Weights per scale along a row: int4 32, 64 or 128 (default 32, the best quality; 128 the
   * smallest), nf4 64 (QLoRA's block). Fixed by the format elsewhere: int8 one scale per row,
   * q8_0 and q4_0 32 (llama.cpp's blocks), fp16/bf16 none.
   */
  groupSize?: number;
  /** int4 only: symmetric (scale only, default true) or asymmetric (scale and minimum). */
  symmetric?: boolean;
  /** nf4 only: quantize the block scales again to int8 (QLoRA's double quantization; default false). */
  doubleQuantization?: boolean;
  /**
   * How the inputs of the forward products are taken (see {@link ACTIVATIONS}): `'int8'`
   * quantizes each input row to 8 bits per 32 values, as llama.cpp's Q8_0, and sums integer
   * products (the arithmetic llama.cpp uses for its Q8_0 and Q4_0 weights: faster, and its greedy
   * ids); `'float32'` multiplies the float inputs by the decoded weights. Default `'int8'` for
   * q8_0 and q4_0, `'float32'` otherwise; `'int8'` takes int8, symmetric int4 and the two ggml
   * formats, with in-features a multiple of 32. Input gradients always use float32.
   */
  activations?: Activations;
}

/** How a quantized product takes its input: float32, or quantized to int8 per 32 values. */
export const ACTIVATIONS = ['float32', 'int8'] as const;

/** One of {@link ACTIVATIONS}. */
export type Activations = (typeof ACTIVATIONS)[number];

/** The fields of {@link QuantizeOptions}. */
export const QUANTIZE_OPTION_KEYS = [
  'format',
  'groupSize',
  'symmetric',
  'doubleQuantization',
  'activations',
] as const;

/** {@link QuantizeOptions} with every field set. */
export type ResolvedQuantizeOptions = Required<QuantizeOptions>;

/** The typed arrays packed parts are held in (fp16/bf16 as raw bits). */
export type PackedArray = Float32Array | Uint16Array | Int8Array | Uint8Array;

/** A quantized `[rows, columns]` weight: its options and packed parts by name. */
export interface QuantizedWeight {
  /** Options it was quantized with (resolved). */
  readonly options: ResolvedQuantizeOptions;
  /** `[rows, columns]` of the float weight. */
  readonly shape: readonly [number, number];
  /** Packed parts by name; {@link partSpecs} gives each one's dtype and shape. */
  readonly parts: Readonly<Record<string, PackedArray>>;
}

/** The dtype and shape of one packed part. */
export interface PartSpec {
  /** Storage dtype. */
  dtype: DType;
  /** Shape. */
  shape: number[];
}

/** Bytes of one Q8_0 block (fp16 scale + 32 int8) and of one Q4_0 block (fp16 scale + 16 bytes). */
export const GGML_BLOCK_BYTES = { q8_0: 34, q4_0: 18 } as const;

/** The double-quantization block of nf4 scales (QLoRA: 256). */
export const SCALE_BLOCK = 256;

const DEFAULT_GROUP: Record<QuantFormat, number> = {
  fp16: 1,
  bf16: 1,
  int8: 0, // 0: the whole row
  int4: 32,
  nf4: 64,
  q8_0: 32,
  q4_0: 32,
};

/**
 * Validates `options` and fills the defaults; throws `invalid_config` naming the bad field.
 *
 * @example
 * ```ts
 * resolveQuantizeOptions({ format: 'int4' }); // { format: 'int4', groupSize: 32, symmetric: true, doubleQuantization: false, activations: 'float32' }
 * ```
 */
export function resolveQuantizeOptions(options: QuantizeOptions): ResolvedQuantizeOptions {
  const where = 'quantize';
  if (options === null || typeof options !== 'object')
    throw new QuantizeError('invalid_config', `${where}: options must be an object with a format`);
  rejectUnknownKeys(options, QUANTIZE_OPTION_KEYS, where);
  const format = checkChoice(where, 'format', options.format, QUANT_FORMATS);
  const groupSize = options.groupSize ?? DEFAULT_GROUP[format];
  if (format === 'int4') {
    if (![32, 64, 128].includes(groupSize))
      throw new QuantizeError(
        'invalid_config',
        `${where}: groupSize must be 32, 64 or 128 for int4, got ${groupSize}`,
      );
  } else if (format === 'nf4') {
    checkNumber(where, 'groupSize', groupSize, { min: 2, integer: true });
    if (groupSize % 2)
      throw new QuantizeError(
        'invalid_config',
        `${where}: nf4 groupSize must be even, got ${groupSize}`,
      );
  } else if (options.groupSize !== undefined && options.groupSize !== DEFAULT_GROUP[format]) {
    throw new QuantizeError(
      'invalid_config',
      `${where}: format '${format}' has a fixed group (${DEFAULT_GROUP[format] || 'one scale per row'}), got groupSize ${options.groupSize}`,
    );
  }
  const symmetric = checkBoolean(where, 'symmetric', options.symmetric ?? true);
  if (!symmetric && format !== 'int4')
    throw new QuantizeError(
      'invalid_config',
      `${where}: symmetric: false applies to int4 only, not '${format}'`,
    );
  const doubleQuantization = checkBoolean(
    where,
    'doubleQuantization',
    options.doubleQuantization ?? false,
  );
  if (doubleQuantization && format !== 'nf4')
    throw new QuantizeError(
      'invalid_config',
      `${where}: doubleQuantization applies to nf4 only, not '${format}'`,
    );
  const ggml = format === 'q8_0' || format === 'q4_0';
  const activations = checkChoice(
    where,
    'activations',
    options.activations ?? (ggml ? 'int8' : 'float32'),
    ACTIVATIONS,
  );
  if (activations === 'int8' && !(ggml || format === 'int8' || (format === 'int4' && symmetric)))
    throw new QuantizeError(
      'invalid_config',
      `${where}: activations 'int8' takes int8, symmetric int4, q8_0 and q4_0, not '${format}'${format === 'int4' ? ' asymmetric' : ''}`,
    );
  return { format, groupSize, symmetric, doubleQuantization, activations };
}

/** Throws `invalid_argument` unless `columns` splits into whole groups of the format. */
export function checkShape(
  options: ResolvedQuantizeOptions,
  shape: readonly number[],
  where = 'quantize',
): void {
  if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0))
    throw new QuantizeError(
      'invalid_argument',
      `${where}: weight shape must be [rows, columns] of positive sizes, got [${shape.join(',')}]`,
    );
  const columns = shape[1];
  const group = options.groupSize;
  if (group > 1 && columns % group !== 0)
    throw new QuantizeError(
      'invalid_argument',
      `${where}: groupSize ${group} of '${options.format}' does not divide the width ${columns} (shape [${shape.join(',')}]); use a group size that divides it or skip this layer`,
    );
  if (options.activations === 'int8' && columns % 32 !== 0)
    throw new QuantizeError(
      'invalid_argument',
      `${where}: activations 'int8' quantize inputs in blocks of 32, but the width is ${columns} (shape [${shape.join(',')}]); use activations 'float32' or skip this layer`,
    );
}

/**
 * The packed parts a weight of `shape` has in this format, with their dtypes and shapes.
 *
 * @example
 * ```ts
 * partSpecs(resolveQuantizeOptions({ format: 'int8' }), [4, 8]);
 * // { weight: { dtype: 'int8', shape: [4, 8] }, scales: { dtype: 'float32', shape: [4] } }
 * ```
 */
export function partSpecs(
  options: ResolvedQuantizeOptions,
  shape: readonly [number, number],
): Record<string, PartSpec> {
  const [rows, columns] = shape;
  const groups = columns / options.groupSize;
  switch (options.format) {
    case 'fp16':
      return { weight: { dtype: 'float16', shape: [rows, columns] } };
    case 'bf16':
      return { weight: { dtype: 'bfloat16', shape: [rows, columns] } };
    case 'int8':
      return {
        weight: { dtype: 'int8', shape: [rows, columns] },
        scales: { dtype: 'float32', shape: [rows] },
      };
    case 'int4':
      return {
        weight: { dtype: 'uint8', shape: [rows, columns / 2] },
        scales: { dtype: 'float32', shape: [rows, groups] },
        ...(options.symmetric ? {} : { minimums: { dtype: 'float32', shape: [rows, groups] } }),
      };
    case 'nf4': {
      const blocks = rows * groups;
      if (!options.doubleQuantization)
        return {
          weight: { dtype: 'uint8', shape: [rows, columns / 2] },
          absmax: { dtype: 'float32', shape: [rows, groups] },
        };
      return {
        weight: { dtype: 'uint8', shape: [rows, columns / 2] },
        absmax_quantized: { dtype: 'int8', shape: [rows, groups] },
        absmax_scales: { dtype: 'float32', shape: [Math.ceil(blocks / SCALE_BLOCK)] },
        absmax_mean: { dtype: 'float32', shape: [1] },
      };
    }
    case 'q8_0':
    case 'q4_0':
      return {
        weight: {
          dtype: 'uint8',
          shape: [rows, (columns / 32) * GGML_BLOCK_BYTES[options.format]],
        },
      };
  }
}

/** Bytes of the packed parts of a weight of `shape`. */
export function packedBytes(
  options: ResolvedQuantizeOptions,
  shape: readonly [number, number],
): number {
  const bytes: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2, int8: 1, uint8: 1 };
  return Object.values(partSpecs(options, shape)).reduce(
    (sum, spec) => sum + bytes[spec.dtype] * spec.shape.reduce((a, b) => a * b, 1),
    0,
  );
}

/** Rounds half away from zero, as C's `roundf` (Math.round rounds halves up). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}
