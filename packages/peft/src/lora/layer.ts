// LoRA's layer: y = base(x) + scaling * B(A(dropout(x))) with A [r, in] and B [out, r], attached to
// a Linear or Embedding in place (the module object stays where it is, so any container works and
// the base weights keep their names). A starts Kaiming-uniform with a = sqrt(5) (nn.Linear's init,
// as PEFT), B at zero, so the adapted model starts equal to the base. For an Embedding, PEFT's
// layout: A [r, numEmbeddings] is looked up by id, B is [embeddingDim, r], A starts at zero and B
// normal. Over a QuantizedLinear of @llmkit/quantize (QLoRA, Dettmers et al., 2023) the base runs
// its own packed-weight kernel, never dequantized as a whole, and only A and B get gradients; such
// a layer cannot merge (the update would have to be requantized). Several adapters can sit on one
// layer; one (or none) is active.
import {
  add,
  contiguous,
  dropout,
  Embedding,
  embedding,
  init,
  type Linear,
  type Generator,
  type Module,
  matmul,
  mul,
  noGrad,
  type Tensor,
  transpose,
  zeros,
} from '@llmkit/core-tensor';
import { QuantizedLinear } from '@llmkit/quantize';
import { type AdapterWeights, adapterWeightsOf } from '../adapter-weights.js';
import { PeftError } from '../errors.js';
import { inStoredDType } from '../stored-dtype.js';

/** The modules LoRA can adapt. */
export type LoraBase = Linear | Embedding | QuantizedLinear;

interface AdapterSettings {
  scaling: number;
  dropout: number;
}

const layers = new WeakMap<Module, LoraLayer>();

/** The LoRA layer attached to `base`, creating it (and patching its forward) the first time. */
export function loraLayerOf(base: LoraBase): LoraLayer {
  let layer = layers.get(base);
  if (!layer) {
    layer = new LoraLayer(base);
    layers.set(base, layer);
  }
  return layer;
}

/**
 * The adapters of one Linear or Embedding. Its `forward` replaces the base module's own (an
 * instance property shadowing the class method) while any adapter is attached.
 *
 * @example
 * ```ts
 * const layer = loraLayerOf(linear);
 * layer.add('default', { r: 4, scaling: 2, dropout: 0 });
 * layer.active = 'default'; // linear.forward(x) now adds 2 * B A x
 * ```
 */
export class LoraLayer {
  /** The adapter that shapes the output, or null. */
  active: string | null = null;
  /** `[r, in]` (Linear) or `[r, numEmbeddings]` (Embedding) per adapter. */
  readonly A: AdapterWeights;
  /** `[out, r]` (Linear) or `[embeddingDim, r]` (Embedding) per adapter. */
  readonly B: AdapterWeights;
  private readonly settings = new Map<string, AdapterSettings>();
  private readonly mergedAdapters = new Set<string>();
  private readonly isEmbedding: boolean;
  // the class's own forward (the instance property shadows it while adapters are attached)
  private readonly baseForward: (x: Tensor) => Tensor;

  constructor(readonly base: LoraBase) {
    this.isEmbedding = base instanceof Embedding;
    this.baseForward = Object.getPrototypeOf(base).forward;
    this.A = adapterWeightsOf(base, this.isEmbedding ? 'lora_embedding_A' : 'lora_A');
    this.B = adapterWeightsOf(base, this.isEmbedding ? 'lora_embedding_B' : 'lora_B');
  }

  /** `[in, out]` of the base: features for a Linear, (numEmbeddings, embeddingDim) for an Embedding. */
  get features(): { in: number; out: number } {
    const base = this.base;
    if (base instanceof Embedding) return { in: base.numEmbeddings, out: base.embeddingDim };
    return { in: base.inFeatures, out: base.outFeatures };
  }

  /** Whether adapters can fold into the base weight (not into a quantized one). */
  get mergeable(): boolean {
    return !(this.base instanceof QuantizedLinear);
  }

  // the adapter's dtype and backend: the base weight's (float32 over a quantized base)
  private placement(): { dtype: 'float32' | 'float64'; backend: string } {
    const weight = this.base.stateDict().weight;
    const dtype = this.base instanceof QuantizedLinear ? 'float32' : weight.dtype;
    return { dtype: dtype === 'float64' ? 'float64' : 'float32', backend: weight.backend.name };
  }

  /** Adds adapter `name` with its initial values (see the file header); returns A and B. */
  add(
    name: string,
    options: { r: number; scaling: number; dropout: number; generator?: Generator },
  ): { A: Tensor; B: Tensor } {
    const { r } = options;
    const { dtype, backend } = this.placement();
    const { in: fanIn, out } = this.features;
    const A = zeros([r, fanIn], { dtype, backend });
    const B = zeros([out, r], { dtype, backend });
    const generator = options.generator ? { generator: options.generator } : {};
    if (this.isEmbedding) init.normal(B, 0, 1, generator);
    else init.kaimingUniform(A, { gain: Math.sqrt(2 / (1 + 5)), ...generator }); // a = sqrt(5)
    this.settings.set(name, { scaling: options.scaling, dropout: options.dropout });
    if (this.settings.size === 1) {
      const own = this.base as LoraBase & { forward(x: Tensor): Tensor };
      own.forward = (x: Tensor) => this.forward(x);
    }
    return { A: this.A.set(name, A), B: this.B.set(name, B) };
  }

  /**
   * Removes adapter `name` (unmerging it first unless `keepMerged`, which mergeAndUnload uses);
   * the last one gives the base its own forward back.
   */
  remove(name: string, keepMerged = false): void {
    if (this.mergedAdapters.has(name) && !keepMerged) this.unmerge(name);
    this.mergedAdapters.delete(name);
    this.A.remove(name);
    this.B.remove(name);
    this.settings.delete(name);
    if (this.active === name) this.active = null;
    if (this.settings.size === 0) {
      delete (this.base as { forward?: unknown }).forward; // the class's forward again
      layers.delete(this.base);
    }
  }

  /** Whether adapter `name` is folded into the base weight. */
  isMerged(name: string): boolean {
    return this.mergedAdapters.has(name);
  }

  /** The base weight's update of adapter `name`: scaling * B A, in the base weight's layout. */
  delta(name: string): Tensor {
    const A = this.A.get(name) as Tensor;
    const B = this.B.get(name) as Tensor;
    const { scaling } = this.settings.get(name) as AdapterSettings;
    return noGrad(() => {
      const product = matmul(B, A); // [out, in] or, for an Embedding, [dim, num]
      const oriented = this.isEmbedding ? contiguous(transpose(product)) : product;
      const out = mul(oriented, scaling);
      if (oriented !== product) oriented.dispose();
      product.dispose();
      return out;
    });
  }

  /** W += scaling * B A (PEFT's merge); a no-op when already merged. */
  merge(name: string): void {
    if (this.mergedAdapters.has(name)) return;
    this.shiftWeight(name, 1);
    this.mergedAdapters.add(name);
  }

  /** W -= scaling * B A (PEFT's unmerge); a no-op when not merged. */
  unmerge(name: string): void {
    if (!this.mergedAdapters.has(name)) return;
    this.shiftWeight(name, -1);
    this.mergedAdapters.delete(name);
  }

  private shiftWeight(name: string, sign: 1 | -1): void {
    const base = this.base;
    if (base instanceof QuantizedLinear)
      throw new PeftError(
        'unsupported',
        `LoRA merge: the base layer is a QuantizedLinear (${base.options.format}); its packed weight cannot take the update. Dequantize the model first (dequantizeModel of @llmkit/quantize)`,
      );
    const delta = this.delta(name);
    noGrad(() => {
      const signed = mul(delta, sign);
      const updated = inStoredDType(base.weight, (w) => add(w, signed));
      base.weight.assign(updated);
      updated.dispose();
      signed.dispose();
    });
    delta.dispose();
  }

  /** The base output plus the active, unmerged adapter's update. */
  forward(x: Tensor): Tensor {
    const base = this.base;
    const y = this.baseForward.call(base, x);
    const name = this.active;
    if (name === null || this.mergedAdapters.has(name)) return y;
    const A = this.A.get(name) as Tensor;
    const B = this.B.get(name) as Tensor;
    const { scaling, dropout: p } = this.settings.get(name) as AdapterSettings;
    const update = this.isEmbedding
      ? loraEmbeddingUpdate(x, A, B, scaling)
      : loraUpdate(x, A, B, scaling, { dropout: p, training: base.training });
    const out = add(y, update);
    update.dispose();
    y.dispose();
    return out;
  }
}

/**
 * LoRA's update of a Linear: scaling * dropout(x) A^T B^T, `x [..., in]`, `A [r, in]`,
 * `B [out, r]` -> `[..., out]` (what {@link LoraLayer.forward} adds to the base output).
 *
 * @example
 * ```ts
 * loraUpdate(randn([2, 5]), randn([4, 5]), zeros([3, 4]), 2); // [2, 3] of zeros
 * ```
 */
export function loraUpdate(
  x: Tensor,
  A: Tensor,
  B: Tensor,
  scaling: number,
  options: { dropout?: number; training?: boolean } = {},
): Tensor {
  const dropped = dropout(x, options.dropout ?? 0, { training: options.training ?? false });
  const AT = transpose(A);
  const low = matmul(dropped, AT); // (..., r)
  AT.dispose();
  dropped.dispose();
  return scaleUp(low, B, scaling);
}

/**
 * LoRA's update of an Embedding (PEFT's layout): scaling * A^T[ids] B^T, `A [r, numEmbeddings]`,
 * `B [embeddingDim, r]` -> `[...ids.shape, embeddingDim]`.
 *
 * @example
 * ```ts
 * loraEmbeddingUpdate(ids, zeros([4, 100]), randn([16, 4]), 1); // [...ids.shape, 16] of zeros
 * ```
 */
export function loraEmbeddingUpdate(ids: Tensor, A: Tensor, B: Tensor, scaling: number): Tensor {
  const table = contiguous(transpose(A)); // [num, r]
  const low = embedding(ids, table); // (..., r)
  table.dispose();
  return scaleUp(low, B, scaling);
}

function scaleUp(low: Tensor, B: Tensor, scaling: number): Tensor {
  const BT = transpose(B);
  const up = matmul(low, BT); // (..., out)
  BT.dispose();
  low.dispose();
  const out = mul(up, scaling);
  up.dispose();
  return out;
}
