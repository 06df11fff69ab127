// QLoRA as a registered method: quantizes the base model's Linear layers (the head stays float,
// as @llmkit/quantize's quantizeModel does) unless they are already quantized, then attaches LoRA.
// The quantization stays when the adapter is deleted: it is the base model's new form.
import { Linear, type Module } from '@llmkit/core-tensor';
import { quantizeModel } from '@llmkit/quantize';
import { asPeftError } from '../errors.js';
import { lora, loraTargets } from '../lora/model.js';
import type { AttachedAdapter, PeftMethod } from '../registry.js';
import { type QloraConfig, resolveQloraConfig } from './config.js';

function attachQlora(model: Module, config: QloraConfig, adapterName: string): AttachedAdapter {
  const loraConfig = { ...config, method: 'lora' as const };
  loraTargets(model, loraConfig); // the targets exist, before the model changes
  const float = model.namedModules().filter(([name, m]) => name !== '' && m instanceof Linear);
  if (float.length > 0) {
    asPeftError(() =>
      quantizeModel(model, {
        format: config.format,
        groupSize: config.groupSize,
        ...(config.format === 'nf4' ? { doubleQuantization: config.doubleQuantization } : {}),
      }),
    );
  }
  return lora.attach(model, loraConfig, adapterName);
}

/**
 * QLoRA (Dettmers et al., 2023) as a {@link PeftMethod}: registered under `qlora`; its files are
 * PEFT LoRA adapters (`peft_type: LORA`), which load onto the quantized or the float model.
 *
 * @example
 * ```ts
 * const peft = getPeftModel(gpt, { method: 'qlora', r: 8, format: 'nf4' }); // gpt's Linears become nf4
 * ```
 */
export const qlora: PeftMethod<QloraConfig> = {
  name: 'qlora',
  peftType: 'LORA',
  mergeable: false,
  resolve: resolveQloraConfig,
  attach: attachQlora,
  toJson: (config, model) => lora.toJson({ ...config, method: 'lora' }, model),
  fromJson: (json) => ({ ...resolveQloraConfig({}), ...lora.fromJson(json), method: 'qlora' }),
};
