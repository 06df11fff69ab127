// Module: the base of every layer. Parameters, buffers and child modules are registered by name,
// so `stateDict()` keys read like PyTorch's (`h.0.attn.c_attn.weight`).
import { noGrad } from '../autograd/grad-mode.js';
import { keep } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import { cast } from '../ops/cast.js';
import { isFloatDType } from '../dtype.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** What {@link Module.loadStateDict} found. */
export interface LoadStateDictResult {
  /** Keys the module has and the dictionary lacks. */
  missing: string[];
  /** Keys of the dictionary the module does not have. */
  unexpected: string[];
  /** Keys present in both with different shapes, as `key: [got] vs [expected]`. */
  mismatched: string[];
}

/**
 * Base class of layers and models. Subclasses register parameters and children in the
 * constructor and define `forward`.
 *
 * @example
 * ```ts
 * class Mlp extends Module {
 *   fc1 = this.addModule('fc1', new Linear(2, 8));
 *   fc2 = this.addModule('fc2', new Linear(8, 1));
 *   forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).tanh()); }
 * }
 * ```
 */
export class Module {
  /** True in training mode (dropout active); switch with `train()` / `eval()`. */
  training = true;
  private readonly parameterMap = new Map<string, Tensor>();
  private readonly bufferMap = new Map<string, Tensor>();
  private readonly moduleMap = new Map<string, Module>();

  /**
   * Registers a parameter under `name` and returns it: a float tensor gets `requiresGrad`; a
   * 16-bit storage tensor (a bfloat16 / float16 weight) is registered frozen.
   */
  addParameter(name: string, value: Tensor): Tensor {
    this.checkName(name);
    value.requiresGrad_(isFloatDType(value.dtype));
    this.parameterMap.set(name, keep(value));
    return value;
  }

  /** Registers a non-trainable tensor saved in the state dict (running stats, masks). */
  addBuffer(name: string, value: Tensor): Tensor {
    this.checkName(name);
    this.bufferMap.set(name, keep(value));
    return value;
  }

  /** Registers a child module under `name` and returns it. */
  addModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.moduleMap.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (!name || name.includes('.'))
      throw new TensorError(
        'invalid_argument',
        `Module: invalid name '${name}' (non-empty, no dots)`,
      );
    if (this.parameterMap.has(name) || this.bufferMap.has(name) || this.moduleMap.has(name)) {
      throw new TensorError('invalid_argument', `Module: '${name}' is already registered`);
    }
  }

  /** Replaces a registered parameter's tensor (for weight tying); the old one is not disposed. */
  setParameter(name: string, value: Tensor): void {
    if (!this.parameterMap.has(name))
      throw new TensorError('invalid_argument', `Module: no parameter '${name}'`);
    this.parameterMap.set(name, keep(value));
  }

  /**
   * Replaces a registered child module (quantization swaps a Linear for a QuantizedLinear); the
   * old one is not disposed. A property of this module that held the old child now holds the new.
   *
   * @example
   * ```ts
   * mlp.setModule('fc1', new Linear(2, 8, { bias: false })); // mlp.fc1 is the new layer
   * ```
   */
  setModule(name: string, module: Module): void {
    const old = this.moduleMap.get(name);
    if (!old) throw new TensorError('invalid_argument', `Module: no child module '${name}'`);
    this.moduleMap.set(name, module);
    const self = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(self)) if (self[key] === old) self[key] = module;
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this.moduleMap.entries()];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.moduleMap)
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Every parameter with its dotted name, each tensor once (tied weights appear once). */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, module] of this.namedModules()) {
      for (const [name, p] of module.parameterMap) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([path ? `${path}.${name}` : name, p]);
      }
    }
    return out;
  }

  /** Every parameter (each tensor once). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, module] of this.namedModules()) {
      for (const [name, b] of module.bufferMap) out.push([path ? `${path}.${name}` : name, b]);
    }
    return out;
  }

  /**
   * Parameters and buffers by dotted name (the module's own tensors, not copies; tied weights
   * appear under every name, like PyTorch).
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [path, module] of this.namedModules()) {
      for (const [name, t] of [...module.parameterMap, ...module.bufferMap])
        out[path ? `${path}.${name}` : name] = t;
    }
    return out;
  }

  /**
   * Copies tensors from `dict` into this module's parameters and buffers (converting dtype).
   * With `strict` (default) any missing, unexpected or mis-shaped key throws before anything is
   * copied; otherwise matching keys load and the problems are returned. With `assign` (PyTorch's
   * `assign=True`) the module takes the dict's tensors themselves, in their own dtype, instead
   * of copying: no second copy of a large model is made, each replaced tensor is freed, and the
   * module owns the assigned tensors from then on (a 16-bit weight is registered frozen).
   *
   * @example
   * ```ts
   * const report = model.loadStateDict(readSafetensors(bytes), { strict: false });
   * console.log(report.missing, report.unexpected, report.mismatched);
   * ```
   */
  loadStateDict(
    dict: Record<string, Tensor>,
    options: { strict?: boolean; assign?: boolean } = {},
  ): LoadStateDictResult {
    const own = this.stateDict();
    const result: LoadStateDictResult = { missing: [], unexpected: [], mismatched: [] };
    for (const key of Object.keys(own)) if (!(key in dict)) result.missing.push(key);
    for (const key of Object.keys(dict)) {
      if (!(key in own)) result.unexpected.push(key);
      else if (!sameShape(own[key].shape, dict[key].shape)) {
        result.mismatched.push(
          `${key}: ${formatShape(dict[key].shape)} vs ${formatShape(own[key].shape)}`,
        );
      }
    }
    const problems = result.missing.length + result.unexpected.length + result.mismatched.length;
    if ((options.strict ?? true) && problems > 0) {
      const parts = [
        result.missing.length ? `missing keys: ${result.missing.join(', ')}` : '',
        result.unexpected.length ? `unexpected keys: ${result.unexpected.join(', ')}` : '',
        result.mismatched.length ? `shape mismatches: ${result.mismatched.join('; ')}` : '',
      ].filter(Boolean);
      throw new TensorError('state_dict', `loadStateDict: ${parts.join('; ')}`);
    }
    if (options.assign) {
      this.assignTensors(dict);
      return result;
    }
    noGrad(() => {
      for (const [key, target] of Object.entries(own)) {
        const source = dict[key];
        if (!source || !sameShape(source.shape, target.shape)) continue;
        const converted = source.dtype === target.dtype ? source : cast(source, target.dtype);
        target.assign(converted);
        if (converted !== source) converted.dispose();
      }
    });
    return result;
  }

  // loadStateDict's `assign`: each matching tensor replaces the registered one (and every field
  // of its module that held it), which is then freed.
  private assignTensors(dict: Record<string, Tensor>): void {
    for (const [path, module] of this.namedModules()) {
      for (const map of [module.parameterMap, module.bufferMap]) {
        for (const [name, old] of map) {
          const value = dict[path ? `${path}.${name}` : name];
          if (!value || value === old || !sameShape(value.shape, old.shape)) continue;
          if (map === module.parameterMap)
            value.requiresGrad_(old.requiresGrad && isFloatDType(value.dtype));
          map.set(name, keep(value));
          const self = module as unknown as Record<string, unknown>;
          for (const field of Object.keys(self)) if (self[field] === old) self[field] = value;
          old.dispose();
        }
      }
    }
  }

  /** Sets training mode on this module and every descendant (returns this). */
  train(mode = true): this {
    for (const [, module] of this.namedModules()) module.training = mode;
    return this;
  }

  /** Sets evaluation mode (dropout off); same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every descendant and then on this module (as torch's `apply`). */
  apply(fn: (module: Module) => void): this {
    for (const [, child] of this.moduleMap) child.apply(fn);
    fn(this);
    return this;
  }

  /** Frees and clears the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Number of parameter elements. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Disposes every parameter, gradient and buffer. */
  dispose(): void {
    this.zeroGrad();
    for (const p of this.parameters()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }
}
