// The optimizer base: parameter groups with their own options, per-parameter state, zeroGrad and
// state dicts that refer to parameters by position (like PyTorch).
import { isFloatDType } from '../dtype.js';
import { keep } from '../engine.js';
import { formatShape, TensorError } from '../errors.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** A group of parameters sharing options (e.g. no weight decay for biases and norms). */
export interface ParamGroup<O> {
  /** The parameters. */
  params: Tensor[];
  /** Options for this group (defaults filled in). */
  options: O;
}

/** Parameters, or groups of parameters with option overrides. */
export type ParamsInput<O> =
  | readonly Tensor[]
  | readonly ({ params: readonly Tensor[] } & Partial<O>)[];

/** Per-parameter optimizer state: a step count and named tensors (moments, momentum). */
export interface ParamState {
  /** Steps taken for this parameter. */
  step: number;
  /** State tensors by name. */
  tensors: Record<string, Tensor>;
}

/** A serialisable optimizer state: state by parameter position, group options by group. */
export interface OptimizerStateDict<O> {
  /** State of parameter i (its position across groups, in order). */
  state: Record<number, ParamState>;
  /** Options and parameter positions of each group. */
  paramGroups: (O & { params: number[] })[];
}

/** Base class of the optimizers. */
export abstract class Optimizer<O extends object> {
  /** The parameter groups. */
  readonly paramGroups: ParamGroup<O>[];
  /** State per parameter. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsInput<O>, defaults: O) {
    const list = params as readonly (Tensor | ({ params: readonly Tensor[] } & Partial<O>))[];
    if (list.length === 0)
      throw new TensorError('invalid_argument', 'optimizer: got an empty parameter list');
    const grouped = list.every((p) => 'params' in p && !('shape' in p));
    this.paramGroups = grouped
      ? (list as ({ params: readonly Tensor[] } & Partial<O>)[]).map(
          ({ params: groupParams, ...overrides }) => ({
            params: groupParams.slice(),
            options: { ...defaults, ...(overrides as Partial<O>) },
          }),
        )
      : [{ params: (list as Tensor[]).slice(), options: { ...defaults } }];
    for (const group of this.paramGroups) this.validate(group.options);
    for (const [g, group] of this.paramGroups.entries()) {
      for (const [i, p] of group.params.entries()) {
        if (isFloatDType(p.dtype)) continue;
        throw new TensorError(
          'dtype_mismatch',
          `optimizer: parameter ${i} of group ${g} ${formatShape(p.shape)} is ${p.dtype}, a frozen storage dtype; optimizers update float32 parameters (load the model with dtype 'float32' to train every weight, or train adapters over it with @llmkit/peft)`,
        );
      }
    }
  }

  /** Throws a clear error for invalid options (each optimizer checks its own). */
  protected abstract validate(options: O): void;

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /** Frees and clears every parameter's gradient. */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** The state of `p`, created with `init` on first use. */
  protected stateOf(p: Tensor, init: () => Record<string, Tensor>): ParamState {
    let s = this.state.get(p);
    if (!s) {
      const tensors = init();
      for (const t of Object.values(tensors)) keep(t);
      s = { step: 0, tensors };
      this.state.set(p, s);
    }
    return s;
  }

  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** The optimizer state (tensors are shared, not copied) and the group options. */
  stateDict(): OptimizerStateDict<O> {
    const params = this.allParams();
    const state: Record<number, ParamState> = {};
    params.forEach((p, i) => {
      const s = this.state.get(p);
      if (s) state[i] = { step: s.step, tensors: { ...s.tensors } };
    });
    let position = 0;
    const paramGroups = this.paramGroups.map((g) => ({
      ...g.options,
      params: g.params.map(() => position++),
    }));
    return { state, paramGroups };
  }

  /** Restores a state from `stateDict()` (tensors are copied into fresh ones). */
  loadStateDict(dict: OptimizerStateDict<O>): void {
    const params = this.allParams();
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new TensorError(
        'state_dict',
        `optimizer: state has ${dict.paramGroups.length} groups, optimizer has ${this.paramGroups.length}`,
      );
    }
    dict.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i].params.length) {
        throw new TensorError(
          'state_dict',
          `optimizer: group ${i} has ${g.params.length} parameters in the state, ${this.paramGroups[i].params.length} here`,
        );
      }
      const { params: _, ...options } = g;
      this.validate(options as unknown as O);
      this.paramGroups[i].options = options as unknown as O;
    });
    for (const s of this.state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.state.clear();
    for (const [key, s] of Object.entries(dict.state)) {
      const p = params[Number(key)];
      if (!p)
        throw new TensorError(
          'state_dict',
          `optimizer: state for parameter ${key}, which does not exist`,
        );
      const tensors: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(s.tensors)) {
        if (!sameShape(t.shape, p.shape)) {
          throw new TensorError(
            'state_dict',
            `optimizer: state '${name}' of parameter ${key} is ${formatShape(t.shape)}, parameter is ${formatShape(p.shape)}`,
          );
        }
        tensors[name] = keep(t.to(p.dtype).contiguous());
      }
      this.state.set(p, { step: s.step, tensors });
    }
  }
}
