// QLoRA's layer is LoRA's (lora/layer.ts) over a QuantizedLinear base: the base runs its packed
// kernel, A and B train in float32. This file only names the base layers it accepts.
import type { Module } from '@llmkit/core-tensor';
import { QuantizedLinear } from '@llmkit/quantize';

export { LoraLayer as QloraLayer, loraLayerOf as qloraLayerOf } from '../lora/layer.js';

/** Whether `module` is a frozen 4-bit (or other packed) base layer. */
export function isQuantizedBase(module: Module): module is QuantizedLinear {
  return module instanceof QuantizedLinear;
}
