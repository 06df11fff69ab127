// AdapterWeights: a child module that holds one tensor per named adapter, so a layer's parameters
// read like PEFT's in memory (`h.0.attn.c_attn.lora_A.default.weight`) and an adapter can be
// deleted again. core-tensor's Module cannot unregister children, so this module keeps its own
// map and lists it in `namedModules` / `namedChildren` / `apply` (what every traversal uses).
import { Module, type Tensor } from '@llmkit/core-tensor';

/** One adapter's tensor, registered as the parameter `weight`. */
class AdapterTensor extends Module {
  readonly weight: Tensor;
  constructor(value: Tensor) {
    super();
    this.weight = this.addParameter('weight', value);
  }
}

/** A dictionary adapter name -> trainable tensor (`<name>.weight` in the state dict). */
export class AdapterWeights extends Module {
  private readonly entries = new Map<string, AdapterTensor>();

  /** Registers `value` (it becomes a parameter) for `adapterName` and returns it. */
  set(adapterName: string, value: Tensor): Tensor {
    this.remove(adapterName);
    const holder = new AdapterTensor(value);
    holder.training = this.training;
    this.entries.set(adapterName, holder);
    return holder.weight;
  }

  /** The tensor of `adapterName`, or undefined. */
  get(adapterName: string): Tensor | undefined {
    return this.entries.get(adapterName)?.weight;
  }

  /** Disposes and forgets the tensor of `adapterName` (no-op when absent). */
  remove(adapterName: string): void {
    const holder = this.entries.get(adapterName);
    if (!holder) return;
    holder.dispose();
    this.entries.delete(adapterName);
  }

  /** Number of adapters held. */
  get size(): number {
    return this.entries.size;
  }

  override namedChildren(): [string, Module][] {
    return [...this.entries.entries()];
  }

  override namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.entries)
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  override apply(fn: (module: Module) => void): this {
    for (const child of this.entries.values()) child.apply(fn);
    fn(this);
    return this;
  }
}

/** The child `name` of `module` as AdapterWeights, registering an empty one the first time. */
export function adapterWeightsOf(module: Module, name: string): AdapterWeights {
  const existing = module.namedChildren().find(([childName]) => childName === name)?.[1];
  if (existing instanceof AdapterWeights) return existing;
  return module.addModule(name, new AdapterWeights());
}
