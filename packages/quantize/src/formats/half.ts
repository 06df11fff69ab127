// fp16 and bf16 storage: each weight's IEEE half-precision or bfloat16 bits, rounded to nearest
// even (as PyTorch's `.half()` / `.bfloat16()`). Relative error <= 2^-11 (fp16, in its normal
// range 6.1e-5 .. 65504) and <= 2^-8 (bf16, float32's whole range).
import {
  fromBfloat16Bits,
  fromFloat16Bits,
  toBfloat16Bits,
  toFloat16Bits,
} from '@llmkit/core-tensor/backend';

/** Half-precision bits of each value, rounded to nearest even. */
export function quantizeHalf(values: Float32Array, format: 'fp16' | 'bf16'): Uint16Array {
  const convert = format === 'fp16' ? toFloat16Bits : toBfloat16Bits;
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]);
  return out;
}

/** The float32 values of half-precision bits. */
export function dequantizeHalf(bits: Uint16Array, format: 'fp16' | 'bf16'): Float32Array {
  const convert = format === 'fp16' ? fromFloat16Bits : fromBfloat16Bits;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = convert(bits[i]);
  return out;
}
