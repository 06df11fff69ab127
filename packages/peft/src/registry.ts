// The method registry: every PEFT method (lora, ia3, prompt-tuning) is one folder whose index.ts
// registers a PeftMethod here. getPeftModel, saveAdapter and loadAdapter only talk to this
// interface, so adding a method is one folder and one register call (contributing/ has the recipe).
import type { Module, Tensor } from '@llmkit/core-tensor';
import { PeftError } from './errors.js';

/** One tensor an adapter saves: on module `module` (llmkit name, null for a top-level key). */
export interface AdapterTensorEntry {
  /** The module the tensor belongs to (llmkit name), or null for a model-level tensor. */
  module: string | null;
  /** What follows the module name in PEFT's key: `lora_A.weight`, `ia3_l`, `prompt_embeddings`. */
  key: string;
  /** The live tensor (loading assigns into it). */
  tensor: Tensor;
}

/** An adapter attached to a model: what {@link PeftMethod.attach} returns. */
export interface AttachedAdapter {
  /** The tensors this adapter trains. */
  trainable(): Tensor[];
  /** The tensors of the adapter file, with their PEFT keys. */
  entries(): AdapterTensorEntry[];
  /** Turns the adapter on (it shapes the output) or off. */
  setActive(active: boolean): void;
  /** Folds the adapter into the base weights (only where the method can: LoRA, IA3). */
  merge(): void;
  /** Undoes {@link merge}. */
  unmerge(): void;
  /** Whether the adapter is merged now. */
  readonly merged: boolean;
  /**
   * Detaches the adapter from the model and disposes its tensors; unmerges first if merged,
   * unless `keepMerged` (mergeAndUnload keeps the folded weights).
   */
  remove(keepMerged?: boolean): void;
  /** For methods that change the inputs (prompt tuning): runs the base model's forward. */
  forward?(model: Module, args: unknown[]): unknown;
}

/** A method's common config fields (each method's config extends this). */
export interface MethodConfig {
  /** Which method: `lora`, `ia3`, `prompt-tuning`. */
  method: string;
  /** Modules (name list or expression) trained and saved whole beside the adapter. */
  modulesToSave?: readonly string[];
}

/** What a method registers: validation, attaching, and the adapter_config.json mapping. */
export interface PeftMethod<Config extends MethodConfig = MethodConfig> {
  /** The name in configs (`lora`). */
  readonly name: string;
  /** PEFT's `peft_type` (`LORA`). */
  readonly peftType: string;
  /** Whether merge / mergeAndUnload are possible. */
  readonly mergeable: boolean;
  /** Checks a user config and fills defaults; throws a PeftError before any work. */
  resolve(config: unknown): Config;
  /**
   * Attaches the adapter to `model` under `adapterName` (inactive until set active). Must check
   * everything (targets, shapes) before changing the model, so a failure leaves it untouched.
   */
  attach(model: Module, config: Config, adapterName: string): AttachedAdapter;
  /** The method's fields of PEFT's adapter_config.json. */
  toJson(config: Config, model: Module): Record<string, unknown>;
  /** The config from an adapter_config.json. */
  fromJson(json: Record<string, unknown>): Config;
}

const methods = new Map<string, PeftMethod<MethodConfig>>();

/**
 * Registers a method so getPeftModel and loadAdapter find it by `name` and by `peftType`.
 *
 * @example
 * ```ts
 * registerMethod(myMethod); // then getPeftModel(model, { method: myMethod.name, ... })
 * ```
 */
export function registerMethod<Config extends MethodConfig>(method: PeftMethod<Config>): void {
  methods.set(method.name, method as unknown as PeftMethod<MethodConfig>);
}

/**
 * The method registered as `name` (a config's `method`) or as a PEFT `peft_type`.
 *
 * @example
 * ```ts
 * methodByName('lora').peftType; // 'LORA'
 * ```
 */
export function methodByName(name: string): PeftMethod<MethodConfig> {
  // a peft_type names its own method first (LORA -> lora, not qlora, whose files are LORA too)
  const found =
    methods.get(name) ??
    methods.get(String(name).toLowerCase().replaceAll('_', '-')) ??
    [...methods.values()].find((method) => method.peftType === name);
  if (!found) {
    throw new PeftError(
      'invalid_config',
      `PEFT config: method must be one of ${[...methods.keys()].map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(name)}`,
    );
  }
  return found;
}
