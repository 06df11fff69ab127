// QLoRA's config (Dettmers et al., 2023, "QLoRA: Efficient Finetuning of Quantized LLMs"): LoRA's
// fields plus the base model's 4-bit format. The adapter itself is a plain LoRA adapter (PEFT
// files say `peft_type: LORA`; the quantization belongs to the base model).
import { checkBoolean, checkChoice, checkNumber, withDefaults } from '@llmkit/utils';
import { LORA_DEFAULTS, type LoraConfig, resolveLoraConfig } from '../lora/config.js';

/** The config of a QLoRA adapter: LoRA over a base quantized to 4 bits. */
export interface QloraConfig extends Omit<LoraConfig, 'method'> {
  /** `'qlora'`. */
  method: 'qlora';
  /** The base weights' format: `nf4` (default, the paper's NormalFloat4) or group-wise `int4`. */
  format: 'nf4' | 'int4';
  /** Weights per scale: 64 (default, the paper's block) for nf4; 32, 64 or 128 for int4. */
  groupSize: number;
  /** nf4: quantize the block scales again (the paper's double quantization; default true). */
  doubleQuantization: boolean;
}

/** The defaults of {@link QloraConfig}: LoRA's, on an nf4 base with double quantization. */
export const QLORA_DEFAULTS: QloraConfig = {
  ...LORA_DEFAULTS,
  method: 'qlora',
  format: 'nf4',
  groupSize: 64,
  doubleQuantization: true,
};

const WHERE = 'QLoRA config';

/** Fills defaults and validates a QLoRA config. */
export function resolveQloraConfig(config: unknown): QloraConfig {
  const c = withDefaults(config as Partial<QloraConfig>, QLORA_DEFAULTS, WHERE);
  checkChoice(WHERE, 'format', c.format, ['nf4', 'int4'] as const);
  checkNumber(WHERE, 'groupSize', c.groupSize, { min: 1, integer: true });
  checkBoolean(WHERE, 'doubleQuantization', c.doubleQuantization);
  const { format, groupSize, doubleQuantization, ...lora } = c;
  return {
    ...resolveLoraConfig({ ...lora, method: 'lora' }),
    method: 'qlora',
    format,
    groupSize,
    doubleQuantization,
  };
}
