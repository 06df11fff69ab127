// PeftModel: a base model with named adapters of one method. The base's parameters are frozen
// (requiresGrad false) and only the active adapter's tensors train, so an optimizer over
// `trainableParameters()` (what llmkit's Trainer takes) keeps no state for the frozen ones.
// Not handled: adapters of two different methods on one model, several adapters active at once.
import { isHalfDType, Module, type Tensor } from '@llmkit/core-tensor';
import { asPeftError, PeftError } from './errors.js';
import type { Ia3Config } from './ia3/config.js';
import type { LoraConfig } from './lora/config.js';
import type { PromptTuningConfig } from './prompt-tuning/config.js';
import type { QloraConfig } from './qlora/config.js';
import { assignValues, copyOf, modulesToSaveEntries } from './modules-to-save.js';
import {
  type AdapterTensorEntry,
  type AttachedAdapter,
  type MethodConfig,
  methodByName,
  type PeftMethod,
} from './registry.js';

/**
 * The config of {@link getPeftModel} and {@link PeftModel.addAdapter}: a method name and that
 * method's fields (defaults fill the rest; each method validates its own).
 */
export type PeftConfig =
  | ({ method: 'lora' } & Partial<Omit<LoraConfig, 'method'>>)
  | ({ method: 'qlora' } & Partial<Omit<QloraConfig, 'method'>>)
  | ({ method: 'ia3' } & Partial<Omit<Ia3Config, 'method'>>)
  | ({ method: 'prompt-tuning' } & Partial<Omit<PromptTuningConfig, 'method'>>)
  | (MethodConfig & Record<string, unknown>);

/** The type of a model's `forward` method (what {@link PeftModel.forward} forwards to). */
export type ForwardOf<M> = M extends { forward: infer F } ? F : never;

/** What a PeftModel knows about one adapter. */
interface AdapterRecord {
  method: PeftMethod<MethodConfig>;
  config: MethodConfig;
  attached: AttachedAdapter;
  /** modulesToSave parameters (live tensors) with this adapter's copy of their values. */
  saved: Map<Tensor, Tensor>;
  savedEntries: AdapterTensorEntry[];
}

/**
 * A base model with adapters. `forward` is the base model's (with the active adapter applied);
 * train it with any optimizer over {@link PeftModel.trainableParameters}, or with llmkit's
 * Trainer, which skips frozen parameters.
 *
 * @example
 * ```ts
 * const peft = getPeftModel(gpt, { method: 'lora', r: 8, targetModules: ['c_attn'] });
 * console.log(peft.trainableParameterCount()); // nLayer * 8 * (64 + 192) = 4096 for gpt2-tiny
 * const { logits } = peft.forward([[1, 2, 3]]);
 * ```
 */
export class PeftModel<M extends Module = Module> extends Module {
  /** The base model's forward, with the active adapter applied. */
  readonly forward: ForwardOf<M>;
  private readonly adapters = new Map<string, AdapterRecord>();
  private current: string | null = null;
  private disabled = false;
  private readonly originals = new Map<Tensor, Tensor>();
  private unloaded = false;

  constructor(readonly base: M) {
    super();
    this.addModule('base_model', base);
    this.forward = ((...args: unknown[]) => this.run(args)) as ForwardOf<M>;
  }

  private run(args: unknown[]): unknown {
    this.checkLoaded('forward');
    const record = this.disabled || !this.current ? null : this.adapters.get(this.current);
    if (record?.attached.forward) return record.attached.forward(this.base, args);
    return (this.base as unknown as { forward(...a: unknown[]): unknown }).forward(...args);
  }

  /** The active adapter's name (null when disabled or none). */
  get activeAdapter(): string | null {
    return this.disabled ? null : this.current;
  }

  /** The names of the attached adapters, in the order they were added. */
  get adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  /** The resolved config of adapter `name`. */
  adapterConfig(name: string): MethodConfig {
    return this.record(name, 'adapterConfig').config;
  }

  /** The method of adapter `name`. */
  adapterMethod(name: string): PeftMethod<MethodConfig> {
    return this.record(name, 'adapterMethod').method;
  }

  /**
   * The tensors adapter `name` saves, with their PEFT keys (modulesToSave included). The live
   * tensors for the active adapter; its own copies for an inactive one.
   */
  adapterEntries(name: string): AdapterTensorEntry[] {
    const record = this.record(name, 'adapterEntries');
    const live = this.current === name && !this.disabled;
    return [
      ...record.attached.entries(),
      ...record.savedEntries.map((e) => ({
        ...e,
        tensor: live ? e.tensor : (record.saved.get(e.tensor) as Tensor),
      })),
    ];
  }

  /**
   * Attaches another adapter (validated first: a bad config or a target that matches nothing
   * throws and changes nothing). The first adapter becomes active; later ones wait for
   * {@link setAdapter}. All adapters of one model use one method.
   *
   * @example
   * ```ts
   * peft.addAdapter('french', { method: 'lora', r: 4 });
   * peft.setAdapter('french');
   * ```
   */
  addAdapter(name: string, config: PeftConfig): this {
    this.checkLoaded('addAdapter');
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(name))
      throw new PeftError(
        'invalid_argument',
        `addAdapter: adapter name must be letters, digits, '_' or '-', got ${JSON.stringify(name)}`,
      );
    if (this.adapters.has(name))
      throw new PeftError('invalid_argument', `addAdapter: adapter '${name}' already exists`);
    if (!config || typeof config !== 'object')
      throw new PeftError('invalid_config', `addAdapter: config must be an object, got ${config}`);
    const method = methodByName(config.method);
    const first = this.adapters.values().next().value;
    if (first && first.method !== method)
      throw new PeftError(
        'unsupported',
        `addAdapter: this model has ${first.method.name} adapters; '${method.name}' cannot join them (one method per model)`,
      );
    const resolved = asPeftError(() => method.resolve(config));
    const savedEntries = modulesToSaveEntries(this.base, resolved.modulesToSave ?? [], method.name);
    const attached = method.attach(this.base, resolved, name);
    const saved = new Map<Tensor, Tensor>();
    for (const { tensor } of savedEntries) {
      if (!this.originals.has(tensor)) this.originals.set(tensor, copyOf(tensor));
      saved.set(tensor, copyOf(this.originals.get(tensor) as Tensor));
    }
    this.adapters.set(name, { method, config: resolved, attached, saved, savedEntries });
    if (this.current === null) this.setAdapter(name);
    else this.refreshTrainable();
    return this;
  }

  /**
   * Makes adapter `name` the active one (and the only trainable one).
   *
   * @example
   * ```ts
   * peft.setAdapter('french'); // forward now uses 'french'
   * ```
   */
  setAdapter(name: string): this {
    const next = this.record(name, 'setAdapter');
    const previous = this.current ? this.adapters.get(this.current) : undefined;
    if (previous?.attached.merged)
      throw new PeftError(
        'invalid_argument',
        `setAdapter: adapter '${this.current}' is merged; unmerge() it before switching`,
      );
    if (!this.disabled) this.deactivate(previous);
    this.current = name;
    if (!this.disabled) this.activate(next);
    this.refreshTrainable();
    return this;
  }

  /**
   * Runs the base model alone: no adapter applies (a merged one is unmerged first) and nothing
   * trains, until {@link enableAdapters}.
   *
   * @example
   * ```ts
   * peft.disableAdapters(); const base = peft.forward(ids); peft.enableAdapters();
   * ```
   */
  disableAdapters(): this {
    if (this.disabled) return this;
    const record = this.current ? this.adapters.get(this.current) : undefined;
    if (record?.attached.merged) record.attached.unmerge();
    this.deactivate(record);
    this.disabled = true;
    this.refreshTrainable();
    return this;
  }

  /** Undoes {@link disableAdapters}: the active adapter applies and trains again. */
  enableAdapters(): this {
    if (!this.disabled) return this;
    this.disabled = false;
    if (this.current) this.activate(this.adapters.get(this.current) as AdapterRecord);
    this.refreshTrainable();
    return this;
  }

  /**
   * Detaches adapter `name` and frees its tensors (unmerging it if merged). Deleting the active
   * adapter activates the first remaining one, if any.
   *
   * @example
   * ```ts
   * peft.deleteAdapter('french');
   * ```
   */
  deleteAdapter(name: string): this {
    const record = this.record(name, 'deleteAdapter');
    if (this.current === name) {
      if (!this.disabled) this.deactivate(record);
      this.current = null;
    }
    record.attached.remove();
    for (const copy of record.saved.values()) copy.dispose();
    this.adapters.delete(name);
    const next = this.adapters.keys().next().value;
    if (this.current === null && next !== undefined) this.setAdapter(next);
    else this.refreshTrainable();
    return this;
  }

  /**
   * Folds the active adapter into the base weights (forward is then the base's plain forward,
   * with the same outputs); LoRA and IA3 only.
   *
   * @example
   * ```ts
   * peft.merge(); peft.forward(ids); peft.unmerge();
   * ```
   */
  merge(): this {
    const record = this.activeRecord('merge');
    if (!record.method.mergeable)
      throw new PeftError('unsupported', `merge: ${record.method.name} adapters cannot be merged`);
    record.attached.merge();
    return this;
  }

  /** Undoes {@link merge}. */
  unmerge(): this {
    this.activeRecord('unmerge').attached.unmerge();
    return this;
  }

  /**
   * Merges the active adapter and removes every adapter: returns the plain base model (all its
   * parameters trainable again), which transformer's `savePretrained` writes as usual. This
   * PeftModel is unusable afterwards.
   *
   * @example
   * ```ts
   * const plain = peft.mergeAndUnload();
   * await savePretrained(plain, './merged');
   * ```
   */
  mergeAndUnload(): M {
    const record = this.activeRecord('mergeAndUnload');
    if (!record.method.mergeable)
      throw new PeftError(
        'unsupported',
        `mergeAndUnload: ${record.method.name} adapters cannot be merged`,
      );
    record.attached.merge();
    for (const [name, other] of this.adapters) {
      other.attached.remove(name === this.current);
      for (const copy of other.saved.values()) copy.dispose();
    }
    for (const copy of this.originals.values()) copy.dispose();
    this.adapters.clear();
    this.originals.clear();
    this.current = null;
    this.unloaded = true;
    // the base trains again, except weights kept in a 16-bit storage dtype (always frozen)
    for (const p of this.base.parameters()) p.requiresGrad_(!isHalfDType(p.dtype));
    return this.base;
  }

  /** The parameters that train: the active adapter's (and its biases and modulesToSave). */
  trainableParameters(): Tensor[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  /**
   * Number of trainable parameter elements (the active adapter's).
   *
   * @example
   * ```ts
   * const share = peft.trainableParameterCount() / peft.parameterCount(); // 0.0024 for LoRA r 8 on GPT-2 124M
   * ```
   */
  trainableParameterCount(): number {
    return this.trainableParameters().reduce((n, p) => n + p.size, 0);
  }

  private record(name: string, where: string): AdapterRecord {
    this.checkLoaded(where);
    const record = this.adapters.get(name);
    if (!record)
      throw new PeftError(
        'not_found',
        `${where}: no adapter '${name}'; the model has ${this.adapterNames.map((n) => `'${n}'`).join(', ') || 'none'}`,
      );
    return record;
  }

  private activeRecord(where: string): AdapterRecord {
    if (this.disabled || !this.current)
      throw new PeftError('invalid_argument', `${where}: no active adapter`);
    return this.record(this.current, where);
  }

  private checkLoaded(where: string): void {
    if (this.unloaded)
      throw new PeftError(
        'invalid_argument',
        `${where}: this PeftModel was unloaded by mergeAndUnload(); use the model it returned`,
      );
  }

  // the live modulesToSave values go back to the adapter's copy, the originals come back
  private deactivate(record: AdapterRecord | undefined): void {
    if (!record) return;
    record.attached.setActive(false);
    for (const [live, copy] of record.saved) {
      assignValues(copy, live);
      assignValues(live, this.originals.get(live) as Tensor);
    }
  }

  private activate(record: AdapterRecord): void {
    record.attached.setActive(true);
    for (const [live, copy] of record.saved) assignValues(live, copy);
  }

  private refreshTrainable(): void {
    for (const p of this.base.parameters()) p.requiresGrad_(false);
    const record = this.activeAdapter ? this.adapters.get(this.activeAdapter) : undefined;
    if (!record) return;
    for (const t of record.attached.trainable()) t.requiresGrad_(true);
    for (const live of record.saved.keys()) live.requiresGrad_(true);
  }
}

/**
 * Wraps `model` with a new adapter named `adapterName` (default `'default'`, as PEFT): the config's
 * `method` picks LoRA, IA3 or prompt tuning. Validates everything before changing the model.
 *
 * @example
 * ```ts
 * const peft = getPeftModel(await loadPretrained('./gpt2'), { method: 'lora', r: 8, alpha: 16 });
 * console.log(peft.trainableParameterCount()); // 294912
 * ```
 */
export function getPeftModel<M extends Module>(
  model: M,
  config: PeftConfig,
  adapterName = 'default',
): PeftModel<M> {
  if (model instanceof PeftModel)
    throw new PeftError(
      'invalid_argument',
      'getPeftModel: the model is already a PeftModel; use addAdapter to add another adapter',
    );
  return new PeftModel(model).addAdapter(adapterName, config);
}
