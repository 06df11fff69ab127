// IA3's config (Liu et al., 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper
// than In-Context Learning"): learned vectors that rescale activations.
import type { Module } from '@llmkit/core-tensor';
import { checkBoolean, configError, withDefaults } from '@llmkit/utils';
import { checkTargets } from '../lora/config.js';
import { matchesTarget, type TargetModules } from '../targets.js';

/** The config of an IA3 adapter. */
export interface Ia3Config {
  /** `'ia3'`. */
  method: 'ia3';
  /**
   * Linear modules to rescale; default PEFT's choice for GPT-2: `c_attn` (keys, values and, as
   * GPT-2 fuses them, queries) and the feed-forward output `mlp.c_proj`.
   */
  targetModules: TargetModules;
  /**
   * Which targets are feed-forward layers: their vector `[1, in]` scales the layer's input (PEFT's
   * rule); the others' `[out, 1]` scales the output. Must be among the targets. Default `mlp.c_proj`.
   */
  feedforwardModules: readonly string[];
  /** PEFT's `fan_in_fan_out` (written to adapter_config.json only; default true for GPT). */
  fanInFanOut?: boolean;
  /** Modules trained and saved whole; default none. */
  modulesToSave: readonly string[];
}

/** The defaults of {@link Ia3Config}. */
export const IA3_DEFAULTS: Ia3Config = {
  method: 'ia3',
  targetModules: ['c_attn', 'mlp.c_proj'],
  feedforwardModules: ['mlp.c_proj'],
  fanInFanOut: undefined,
  modulesToSave: [],
};

const WHERE = 'IA3 config';

/** Fills defaults and validates an IA3 config. */
export function resolveIa3Config(config: unknown): Ia3Config {
  const c = withDefaults(config as Partial<Ia3Config>, IA3_DEFAULTS, WHERE);
  checkTargets(WHERE, c.targetModules);
  if (
    !Array.isArray(c.feedforwardModules) ||
    c.feedforwardModules.some((m) => typeof m !== 'string')
  )
    configError(WHERE, 'feedforwardModules', c.feedforwardModules, 'a list of module names');
  if (c.fanInFanOut !== undefined) checkBoolean(WHERE, 'fanInFanOut', c.fanInFanOut);
  if (!Array.isArray(c.modulesToSave) || c.modulesToSave.some((m) => typeof m !== 'string'))
    configError(WHERE, 'modulesToSave', c.modulesToSave, 'a list of module names');
  const targets = c.targetModules;
  if (Array.isArray(targets)) {
    // PEFT's rule: the feed-forward modules are a subset of the targets
    const stray = c.feedforwardModules.find((f) => !targets.includes(f));
    if (stray !== undefined)
      configError(
        WHERE,
        'feedforwardModules',
        c.feedforwardModules,
        `a subset of targetModules (${JSON.stringify(stray)} is not a target)`,
      );
  }
  return c;
}

/** Whether target `name` is a feed-forward module of `config` (PEFT: the name ends with an entry). */
export function isFeedforward(model: Module, name: string, config: Ia3Config): boolean {
  return matchesTarget(model, name, config.feedforwardModules);
}
