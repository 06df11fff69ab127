// QuantizedEmbedding: a lookup table kept packed (any format of @llmkit/quantize, quantized row by
// row, so one token's row is one packed row). A lookup gathers the packed rows of the ids and
// decodes only those; no float copy of the table is ever made. For a GPT whose head is tied to
// `wte`, `attend(x) = x @ table^T` multiplies by the same packed tensor with the `quantizedMatmul`
// kernel, so one packed table serves both the lookup and the head. The table is frozen (buffers,
// no gradient), like a QuantizedLinear's weight. State-dict keys match QuantizedLinear's:
// `weight` (the main packed part) and `weight_<part>` (`weight_scales`, ...).
import {
  contiguous,
  Embedding,
  indexSelect,
  eye,
  fromValues,
  keep,
  Module,
  noGrad,
  reshape,
  type Tensor,
  transpose,
  withoutInit,
} from '@llmkit/core-tensor';
import { QuantizeError } from './errors.js';
import { checkParts, dequantizeWeight, quantizeWeight } from './formats/index.js';
import {
  type PackedArray,
  packedBytes,
  partSpecs,
  type QuantizedWeight,
  type QuantizeOptions,
  type ResolvedQuantizeOptions,
} from './formats/types.js';
import { kernelAttributes, kernelParts, quantizedMatmul } from './kernel.js';
import { partKey } from './linear.js';

/** Options of the {@link QuantizedEmbedding} constructor. */
export interface QuantizedEmbeddingOptions {
  /** Backend of the packed buffers (default: the active one). */
  backend?: string;
}

/**
 * An embedding table over packed rows.
 *
 * @example
 * ```ts
 * const wte = QuantizedEmbedding.fromEmbedding(new Embedding(100, 64), { format: 'q8_0' });
 * wte.forward(fromValues(Int32Array.of(3, 7), [1, 2], { dtype: 'int32' })).shape; // [1, 2, 64]
 * ```
 */
export class QuantizedEmbedding extends Module {
  /** Rows of the table (the vocabulary size for a token embedding). */
  readonly numEmbeddings: number;
  /** Width of a row. */
  readonly embeddingDim: number;
  /** The format and its options. */
  readonly options: ResolvedQuantizeOptions;
  /**
   * The main packed part (`int8 [numEmbeddings, embeddingDim]`, `uint8` blocks...), named like
   * Embedding's `weight` so a model reads its backend from it. Not float: use `forward` or
   * {@link QuantizedEmbedding.dequantize} for values.
   */
  readonly weight: Tensor;
  private readonly partNames: string[];
  // the packed table on the host where the device reads back only asynchronously (webgpu)
  private readonly host: QuantizedWeight | null;
  // I [C, C], made at the first lookup and kept: building it costs more than a token's lookup.
  private identity: Tensor | null = null;

  constructor(table: QuantizedWeight, options: QuantizedEmbeddingOptions = {}) {
    super();
    checkParts(table, 'QuantizedEmbedding');
    [this.numEmbeddings, this.embeddingDim] = table.shape;
    this.options = table.options;
    const specs = partSpecs(table.options, table.shape);
    this.partNames = Object.keys(specs);
    for (const name of this.partNames) {
      const spec = specs[name];
      this.addBuffer(
        partKey(name),
        fromValues(table.parts[name], spec.shape, { dtype: spec.dtype, backend: options.backend }),
      );
    }
    this.weight = this.part('weight');
    this.host = this.weight.backend.readSync ? null : table;
  }

  /**
   * Quantizes an Embedding's table row by row (the Embedding itself is left as it was).
   *
   * @example
   * ```ts
   * const wte = QuantizedEmbedding.fromEmbedding(model.wte, { format: 'int8' });
   * ```
   */
  static fromEmbedding(table: Embedding, options: QuantizeOptions): QuantizedEmbedding {
    const weight = quantizeWeight(
      table.weight.to('float32').dataSync<Float32Array>(),
      [table.numEmbeddings, table.embeddingDim],
      options,
    );
    return new QuantizedEmbedding(weight, { backend: table.weight.backend.name });
  }

  private part(name: string): Tensor {
    return this.stateDict()[partKey(name)];
  }

  private get shape(): [number, number] {
    return [this.numEmbeddings, this.embeddingDim];
  }

  /**
   * int32 ids of any shape -> float32 `[...ids.shape, embeddingDim]`, the dequantized rows.
   * Only the looked-up rows are decoded: the packed rows are gathered (one row of every part),
   * then decoded by the `quantizedMatmul` kernel with the identity as input, `I [C, C] @
   * rows^T = rows^T` exactly (each output is one weight times 1 plus zeros), so every backend
   * with the kernel decodes them; that costs C^2 multiply-adds per id, under 1% of a GPT's
   * forward pass (GPT-2 124M: 0.6M against 85M per token).
   */
  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32')
      throw new QuantizeError(
        'invalid_argument',
        `QuantizedEmbedding.forward: ids must be int32, got ${ids.dtype}`,
      );
    const C = this.embeddingDim;
    const n = ids.size;
    const flat = reshape(ids, [n]);
    const { parts, temporary } = kernelParts(this.options, this.shape, (name) => this.part(name));
    // Each part is [numEmbeddings, ...] row-wise (int8's scales [numEmbeddings] become a column).
    const tables = parts.map((p) => (p.rank === 1 ? reshape(p, [p.size, 1]) : p));
    // indexSelect keeps each part's dtype (embedding would decode a 16-bit table to float32)
    const rows = tables.map((table) => indexSelect(table, 0, flat));
    for (const t of [...temporary, ...tables.filter((t, i) => t !== parts[i])]) t.dispose();
    const rowParts = rows.map((r, i) =>
      parts[i].rank === 1 ? reshape(r, [n]) : reshape(r, [n, ...parts[i].shape.slice(1)]),
    );
    this.identity ??= keep(eye(C, C, { backend: this.weight.backend.name }));
    const identity = this.identity;
    const transposed = noGrad(() =>
      // the identity's rows decode exactly with float inputs only (8-bit ones would round 1)
      quantizedMatmul(
        identity,
        rowParts,
        [n, C],
        { ...kernelAttributes(this), activations: 'float32' },
        () => this.readRows(rowParts, n),
      ),
    ); // [C, n]
    const out = contiguous(transpose(transposed));
    const result = reshape(out, [...ids.shape, C]);
    for (const t of [flat, transposed, out, ...rows, ...rowParts]) t.dispose();
    return result;
  }

  /** Gathered rows on the host, for a backend without the kernel (cpu and js have it). */
  private readRows(rowParts: readonly Tensor[], n: number): QuantizedWeight {
    const parts: Record<string, PackedArray> = {};
    const names = this.options.doubleQuantization ? ['weight', 'absmax'] : this.partNames;
    names.forEach((name, i) => {
      parts[name] = rowParts[i].dataSync() as PackedArray;
    });
    const options = this.options.doubleQuantization
      ? { ...this.options, doubleQuantization: false }
      : this.options;
    return { options, shape: [n, this.embeddingDim], parts };
  }

  /**
   * `x [..., embeddingDim] @ table^T -> [..., numEmbeddings]`: the output head tied to this
   * table, multiplied by the packed rows (the `attend` of Flax's `nn.Embed`). A GPT whose head is
   * tied to `wte` calls it.
   */
  attend(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.embeddingDim)
      throw new QuantizeError(
        'invalid_argument',
        `QuantizedEmbedding.attend: input [${x.shape.join(',')}] does not end in embeddingDim ${this.embeddingDim}`,
      );
    const { parts, temporary } = kernelParts(this.options, this.shape, (name) => this.part(name));
    const y = quantizedMatmul(x, parts, this.shape, kernelAttributes(this), () =>
      this.quantizedWeightSync(),
    );
    for (const t of temporary) t.dispose();
    return y;
  }

  /** The packed table on the host (read back synchronously on cpu and js; kept on webgpu). */
  quantizedWeightSync(): QuantizedWeight {
    if (this.host) return this.host;
    const parts: Record<string, PackedArray> = {};
    for (const name of this.partNames) parts[name] = this.part(name).dataSync() as PackedArray;
    return { options: this.options, shape: this.shape, parts };
  }

  /** The packed table read back to the host. */
  async quantizedWeight(): Promise<QuantizedWeight> {
    const parts: Record<string, PackedArray> = {};
    for (const name of this.partNames) parts[name] = (await this.part(name).data()) as PackedArray;
    return { options: this.options, shape: this.shape, parts };
  }

  /** The float32 table `[numEmbeddings, embeddingDim]` it stands for (a new tensor). */
  dequantize(): Tensor {
    return fromValues(dequantizeWeight(this.quantizedWeightSync()), this.shape, {
      backend: this.weight.backend.name,
    });
  }

  /** A float Embedding holding the dequantized table. */
  toEmbedding(): Embedding {
    const table = withoutInit(() => new Embedding(this.numEmbeddings, this.embeddingDim));
    const values = this.dequantize();
    table.weight.assign(values);
    values.dispose();
    return table;
  }

  /** Frees the packed table and the identity kept for lookups. */
  override dispose(): void {
    super.dispose();
    this.identity?.dispose();
    this.identity = null;
  }

  /** Bytes of the packed table. */
  weightBytes(): number {
    return packedBytes(this.options, this.shape);
  }
}
