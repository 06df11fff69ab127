// LoRA's config (Hu et al., 2021, "LoRA: Low-Rank Adaptation of Large Language Models"): typed,
// documented defaults, validated before any work.
import { checkBoolean, checkChoice, checkNumber, configError, withDefaults } from '@llmkit/utils';
import type { TargetModules } from '../targets.js';

/** How biases train beside LoRA (PEFT's `bias`). */
export type LoraBias = 'none' | 'all' | 'lora_only';

/** The config of a LoRA adapter. */
export interface LoraConfig {
  /** `'lora'`. */
  method: 'lora';
  /** Rank of the update B A (8 is PEFT's default: small, and enough for most fine-tuning). */
  r: number;
  /** The update is scaled by alpha / r (alpha / sqrt(r) with rsLoRA); default 8, so the scale is 1 at r 8. */
  alpha: number;
  /** Dropout on the adapter's input while training (default 0, as PEFT). */
  dropout: number;
  /**
   * Modules to adapt: names or name suffixes (`['c_attn']`), or a regular expression that must
   * match the whole name. Default `['c_attn']`, PEFT's choice for GPT-2 (queries, keys, values).
   */
  targetModules: TargetModules;
  /** Biases to train and save: `none` (default, as PEFT), `all`, or those of adapted layers. */
  bias: LoraBias;
  /** Scale by alpha / sqrt(r) (Kalajdzievski, 2023), stable across ranks; default false as PEFT. */
  useRslora: boolean;
  /**
   * PEFT's `fan_in_fan_out`: the base model stores these weights `[in, out]` (GPT-2's Conv1D).
   * llmkit's layers are always `[out, in]`, so it only goes into adapter_config.json; default:
   * true for GPT models (what PEFT writes for GPT-2), false otherwise.
   */
  fanInFanOut?: boolean;
  /** Modules trained and saved whole (a new classification head); default none. */
  modulesToSave: readonly string[];
  /** Seed of A's initial values (default: the global generator). */
  seed?: number;
}

/** The defaults of {@link LoraConfig}. */
export const LORA_DEFAULTS: LoraConfig = {
  method: 'lora',
  r: 8,
  alpha: 8,
  dropout: 0,
  targetModules: ['c_attn'],
  bias: 'none',
  useRslora: false,
  fanInFanOut: undefined,
  modulesToSave: [],
  seed: undefined,
};

const WHERE = 'LoRA config';

/** Fills defaults and validates every field of a LoRA config, naming the first bad one. */
export function resolveLoraConfig(config: unknown): LoraConfig {
  const c = withDefaults(config as Partial<LoraConfig>, LORA_DEFAULTS, WHERE);
  checkNumber(WHERE, 'r', c.r, { min: 1, integer: true });
  checkNumber(WHERE, 'alpha', c.alpha, { min: 0, minExclusive: true });
  checkNumber(WHERE, 'dropout', c.dropout, { min: 0, max: 1, maxExclusive: true });
  checkChoice(WHERE, 'bias', c.bias, ['none', 'all', 'lora_only'] as const);
  checkBoolean(WHERE, 'useRslora', c.useRslora);
  if (c.fanInFanOut !== undefined) checkBoolean(WHERE, 'fanInFanOut', c.fanInFanOut);
  checkTargets(WHERE, c.targetModules);
  if (!Array.isArray(c.modulesToSave) || c.modulesToSave.some((m) => typeof m !== 'string'))
    configError(WHERE, 'modulesToSave', c.modulesToSave, 'a list of module names');
  if (c.seed !== undefined) checkNumber(WHERE, 'seed', c.seed, { min: 0, integer: true });
  return c;
}

/** Checks a `targetModules` field: a non-empty list of names, a RegExp or an expression string. */
export function checkTargets(where: string, targets: unknown): void {
  if (targets instanceof RegExp) return;
  if (typeof targets === 'string') {
    try {
      new RegExp(targets);
    } catch {
      configError(where, 'targetModules', targets, 'a valid regular expression');
    }
    return;
  }
  if (
    !Array.isArray(targets) ||
    targets.length === 0 ||
    targets.some((t) => typeof t !== 'string' || t === '')
  )
    configError(where, 'targetModules', targets, 'a non-empty list of module names or a RegExp');
}

/** The factor of B A: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScaling(config: Pick<LoraConfig, 'alpha' | 'r' | 'useRslora'>): number {
  return config.useRslora ? config.alpha / Math.sqrt(config.r) : config.alpha / config.r;
}
