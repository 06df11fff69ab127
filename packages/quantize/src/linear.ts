// QuantizedLinear: y = x W^T + b with W kept packed (any format of @llmkit/quantize) in the
// module's buffers and multiplied by the backend's `quantizedMatmul` kernel, which dequantizes
// inside the kernel. W is frozen: it is a buffer, not a parameter, and only x gets a gradient, so
// adapters (QLoRA) train over it. The bias stays a float parameter. State-dict keys: `weight`
// (the main packed part) and `weight_<part>` for the others (`weight_scales`, `weight_absmax`...).
import { add, fromValues, Linear, Module, type Tensor } from '@llmkit/core-tensor';
import { QuantizeError } from './errors.js';
import { checkParts, dequantizeWeight, quantizeWeight } from './formats/index.js';
import {
  packedBytes,
  partSpecs,
  type PackedArray,
  type QuantizedWeight,
  type QuantizeOptions,
  type ResolvedQuantizeOptions,
} from './formats/types.js';
import { kernelAttributes, kernelParts, quantizedMatmul } from './kernel.js';

/** The state-dict name of packed part `part`: `weight` or `weight_<part>`. */
export function partKey(part: string): string {
  return part === 'weight' ? 'weight' : `weight_${part}`;
}

/** Options of the {@link QuantizedLinear} constructor. */
export interface QuantizedLinearOptions {
  /** `[outFeatures]` float bias, or null (default null). */
  bias?: Tensor | null;
  /** Backend of the packed buffers (default: the active one, or the bias's). */
  backend?: string;
}

/**
 * A Linear layer over packed weights.
 *
 * @example
 * ```ts
 * const layer = QuantizedLinear.fromLinear(new Linear(64, 16), { format: 'int4', groupSize: 32 });
 * layer.forward(randn([2, 64])).shape; // [2, 16]
 * ```
 */
export class QuantizedLinear extends Module {
  /** Input width K. */
  readonly inFeatures: number;
  /** Output width N. */
  readonly outFeatures: number;
  /** The format and its options. */
  readonly options: ResolvedQuantizeOptions;
  /** `[outFeatures]` float bias, or null. */
  readonly bias: Tensor | null;
  private readonly partNames: string[];
  private host: QuantizedWeight | null;

  constructor(weight: QuantizedWeight, options: QuantizedLinearOptions = {}) {
    super();
    checkParts(weight, 'QuantizedLinear');
    [this.outFeatures, this.inFeatures] = weight.shape;
    this.options = weight.options;
    const backend = options.backend ?? options.bias?.backend.name;
    const specs = partSpecs(weight.options, weight.shape);
    this.partNames = Object.keys(specs);
    for (const name of this.partNames) {
      const spec = specs[name];
      this.addBuffer(
        partKey(name),
        fromValues(weight.parts[name], spec.shape, { dtype: spec.dtype, backend }),
      );
    }
    if (options.bias && (options.bias.rank !== 1 || options.bias.shape[0] !== this.outFeatures))
      throw new QuantizeError(
        'invalid_argument',
        `QuantizedLinear: bias shape [${options.bias.shape.join(',')}] does not match outFeatures ${this.outFeatures}`,
      );
    this.bias = options.bias ? this.addParameter('bias', options.bias) : null;
    // Backends without the kernel decode W on the host, and backends that read back only
    // asynchronously (webgpu) could not dequantize synchronously: keep the packed bytes for them.
    const device = this.part('weight').backend;
    this.host = device.supports('quantizedMatmul') && device.readSync ? null : weight;
  }

  /**
   * Quantizes a Linear's weight (its bias is shared, not copied).
   *
   * @example
   * ```ts
   * const q = QuantizedLinear.fromLinear(linear, { format: 'q8_0' });
   * ```
   */
  static fromLinear(linear: Linear, options: QuantizeOptions): QuantizedLinear {
    const weight = quantizeWeight(
      linear.weight.to('float32').dataSync<Float32Array>(),
      [linear.outFeatures, linear.inFeatures],
      options,
    );
    return new QuantizedLinear(weight, {
      bias: linear.bias,
      backend: linear.weight.backend.name,
    });
  }

  private part(name: string): Tensor {
    return this.stateDict()[partKey(name)];
  }

  /** `[..., inFeatures] -> [..., outFeatures]`. */
  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures)
      throw new QuantizeError(
        'invalid_argument',
        `QuantizedLinear.forward: input [${x.shape.join(',')}] does not end in inFeatures ${this.inFeatures}`,
      );
    const { parts, temporary } = kernelParts(
      this.options,
      [this.outFeatures, this.inFeatures],
      (name) => this.part(name),
    );
    const y = quantizedMatmul(
      x,
      parts,
      [this.outFeatures, this.inFeatures],
      kernelAttributes(this),
      () => this.host ?? this.quantizedWeightSync(),
    );
    for (const t of temporary) t.dispose();
    if (!this.bias) return y;
    const out = add(y, this.bias);
    y.dispose();
    return out;
  }

  /** The packed weight on the host (read back synchronously on cpu and js; kept on webgpu). */
  quantizedWeightSync(): QuantizedWeight {
    if (this.host) return this.host;
    const parts: Record<string, PackedArray> = {};
    for (const name of this.partNames) parts[name] = this.part(name).dataSync() as PackedArray;
    return { options: this.options, shape: [this.outFeatures, this.inFeatures], parts };
  }

  /** The packed weight read back to the host. */
  async quantizedWeight(): Promise<QuantizedWeight> {
    if (this.host) return this.host;
    const parts: Record<string, PackedArray> = {};
    for (const name of this.partNames) parts[name] = (await this.part(name).data()) as PackedArray;
    return { options: this.options, shape: [this.outFeatures, this.inFeatures], parts };
  }

  /** The float32 weight `[outFeatures, inFeatures]` W stands for (a new tensor). */
  dequantize(): Tensor {
    const values = dequantizeWeight(this.host ?? this.quantizedWeightSync());
    return fromValues(values, [this.outFeatures, this.inFeatures], {
      backend: this.part('weight').backend.name,
    });
  }

  /** A float Linear with the dequantized weight and this layer's bias. */
  toLinear(): Linear {
    const linear = new Linear(this.inFeatures, this.outFeatures, {
      bias: this.bias !== null,
    });
    const weight = this.dequantize();
    linear.weight.assign(weight);
    weight.dispose();
    if (this.bias && linear.bias) linear.bias.assign(this.bias);
    return linear;
  }

  /** Bytes of the packed weight (bias not included). */
  weightBytes(): number {
    return packedBytes(this.options, [this.outFeatures, this.inFeatures]);
  }
}
