// IA3's layer: a learned vector per adapter that rescales a Linear's output, y = base(x) * l with
// l [out, 1], or for a feed-forward layer its input, y = base(x * l) with l [1, in] (PEFT's
// shapes and rule). Vectors start at one, so the adapted model starts equal to its base. Merging
// scales W's rows (and the bias) or columns; unmerging divides again.
import { div, Linear, linear, mul, noGrad, ones, type Tensor } from '@llmkit/core-tensor';
import { type AdapterWeights, adapterWeightsOf } from '../adapter-weights.js';
import { inStoredDType } from '../stored-dtype.js';

const layers = new WeakMap<Linear, Ia3Layer>();

/** The IA3 layer attached to `base`, creating it the first time. */
export function ia3LayerOf(base: Linear): Ia3Layer {
  let layer = layers.get(base);
  if (!layer) {
    layer = new Ia3Layer(base);
    layers.set(base, layer);
  }
  return layer;
}

/**
 * IA3's forward as a function: `x [..., in]`, `W [out, in]`, `b [out]` or null, `l` `[out, 1]`
 * (output scaled) or `[1, in]` (input scaled, `feedforward`).
 *
 * @example
 * ```ts
 * ia3Forward(x, linear.weight, linear.bias, ones([1, 4]), true); // = linear.forward(x)
 * ```
 */
export function ia3Forward(
  x: Tensor,
  W: Tensor,
  b: Tensor | null,
  l: Tensor,
  feedforward: boolean,
): Tensor {
  const vector = l.reshape([l.size]);
  const input = feedforward ? mul(x, vector) : x;
  const y = linear(input, W, b); // W may be a frozen bfloat16 / float16 weight
  if (input !== x) input.dispose();
  if (feedforward) return y;
  const out = mul(y, vector);
  y.dispose();
  return out;
}

/**
 * The IA3 vectors of one Linear; its `forward` replaces the module's own while attached.
 *
 * @example
 * ```ts
 * const layer = ia3LayerOf(linear);
 * layer.add('default', false); // l = ones([out, 1])
 * layer.active = 'default';
 * ```
 */
export class Ia3Layer {
  /** The adapter that shapes the output, or null. */
  active: string | null = null;
  /** `ia3_l` per adapter. */
  readonly vectors: AdapterWeights;
  private readonly feedforward = new Map<string, boolean>();
  private readonly mergedAdapters = new Set<string>();

  constructor(readonly base: Linear) {
    this.vectors = adapterWeightsOf(base, 'ia3_l');
  }

  /** Adds adapter `name`: a vector of ones, `[1, in]` when `feedforward`, else `[out, 1]`. */
  add(name: string, feedforward: boolean): Tensor {
    const { inFeatures, outFeatures } = this.base;
    const shape = feedforward ? [1, inFeatures] : [outFeatures, 1];
    const vector = ones(shape, {
      dtype: this.base.weight.dtype,
      backend: this.base.weight.backend.name,
    });
    this.feedforward.set(name, feedforward);
    if (this.feedforward.size === 1) {
      const own = this.base as Linear & { forward(x: Tensor): Tensor };
      own.forward = (x: Tensor) => this.forward(x);
    }
    return this.vectors.set(name, vector);
  }

  /** Removes adapter `name` (dividing it out first unless `keepMerged`). */
  remove(name: string, keepMerged = false): void {
    if (this.mergedAdapters.has(name) && !keepMerged) this.unmerge(name);
    this.mergedAdapters.delete(name);
    this.vectors.remove(name);
    this.feedforward.delete(name);
    if (this.active === name) this.active = null;
    if (this.feedforward.size === 0) {
      delete (this.base as { forward?: unknown }).forward;
      layers.delete(this.base);
    }
  }

  /** Folds adapter `name` into W (rows, and the bias, or columns for feed-forward). */
  merge(name: string): void {
    if (this.mergedAdapters.has(name)) return;
    this.rescale(name, mul);
    this.mergedAdapters.add(name);
  }

  /** Undoes {@link merge} (divides by the vector). */
  unmerge(name: string): void {
    if (!this.mergedAdapters.has(name)) return;
    this.rescale(name, div);
    this.mergedAdapters.delete(name);
  }

  private rescale(name: string, op: (a: Tensor, b: Tensor) => Tensor): void {
    const vector = this.vectors.get(name) as Tensor;
    const feedforward = this.feedforward.get(name) as boolean;
    noGrad(() => {
      const weight = inStoredDType(this.base.weight, (w) => op(w, vector)); // [out, in] by [out, 1] or [1, in]
      this.base.weight.assign(weight);
      weight.dispose();
      if (this.base.bias && !feedforward) {
        const flat = vector.reshape([vector.size]);
        const bias = op(this.base.bias, flat);
        this.base.bias.assign(bias);
        bias.dispose();
      }
    });
  }

  /** The base output rescaled by the active, unmerged adapter. */
  forward(x: Tensor): Tensor {
    const name = this.active;
    if (name === null || this.mergedAdapters.has(name))
      return Linear.prototype.forward.call(this.base, x);
    const vector = this.vectors.get(name) as Tensor;
    return ia3Forward(
      x,
      this.base.weight,
      this.base.bias,
      vector,
      this.feedforward.get(name) as boolean,
    );
  }
}
