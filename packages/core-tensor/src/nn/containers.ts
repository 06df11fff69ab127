import { dropout } from '../ops/dropout.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** A module whose forward maps one tensor to one tensor (what {@link Sequential} chains). */
export interface TensorModule extends Module {
  /** Applies the module. */
  forward(x: Tensor): Tensor;
}

/** A module defined by a function (for activations inside a {@link Sequential}). */
export class Lambda extends Module implements TensorModule {
  constructor(private readonly fn: (x: Tensor) => Tensor) {
    super();
  }

  /** Applies the function. */
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

/**
 * Chains modules: the output of each is the input of the next. Children are named `0`, `1`...
 * Intermediate outputs are disposed as soon as the next module has used them.
 *
 * @example
 * ```ts
 * const mlp = new Sequential(new Linear(2, 8), new Lambda((x) => x.tanh()), new Linear(8, 1));
 * ```
 */
export class Sequential extends Module implements TensorModule {
  /** The chained modules, in order. */
  readonly layers: TensorModule[];

  constructor(...layers: TensorModule[]) {
    super();
    this.layers = layers;
    for (const [i, layer] of layers.entries()) this.addModule(String(i), layer);
  }

  /** Runs the layers in order. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }
}

/** A list of modules registered as `0`, `1`... (like torch.nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }

  /** Appends a module. */
  push(module: M): this {
    this.addModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  /** The module at `index`. */
  at(index: number): M {
    return this.items[index];
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** Iterates over the modules. */
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Dropout as a module: active in training mode, identity in eval mode. */
export class Dropout extends Module implements TensorModule {
  constructor(
    readonly p = 0.5,
    private readonly generator?: Generator,
  ) {
    super();
  }

  /** Applies dropout when training. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }
}
