// quantizeModel: replaces the Linear layers of a model (GPT, LLaMA-style GPT, Encoder,
// EncoderDecoder or any Module) by QuantizedLinear layers in place. Norms, biases and embeddings
// stay float unless asked: `embeddings` turns a GPT's tables (`wte`, `wpe`) into
// QuantizedEmbeddings, and a head tied to `wte` then multiplies by the same packed table. Without
// it, a tied head stays float unless `lmHead` asks for a quantized copy of `wte`.
import { Embedding, Linear, type Module, type Tensor } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { rejectUnknownKeys } from '@llmkit/utils';
import { QuantizeError } from './errors.js';
import { QuantizedEmbedding } from './embedding.js';
import { quantizeWeight } from './formats/index.js';
import {
  checkShape,
  packedBytes,
  type QuantizeOptions,
  type ResolvedQuantizeOptions,
  QUANTIZE_OPTION_KEYS,
  resolveQuantizeOptions,
} from './formats/types.js';
import { QuantizedLinear } from './linear.js';

/** Options of {@link quantizeModel}. */
export interface QuantizeModelOptions extends QuantizeOptions {
  /**
   * Layers (and, with `embeddings`, tables) to leave in float: names or name suffixes (`'c_proj'`
   * matches `h.0.attn.c_proj` and `h.0.mlp.c_proj`) or a regular expression on the whole dotted
   * name (default none).
   */
  skip?: readonly string[] | RegExp;
  /**
   * Quantize the output head too (default false: the head, the layer most sensitive to
   * quantization, stays float). For a GPT with a head tied to `wte` and float embeddings, true
   * adds a quantized `lm_head` made from `wte.weight` (the embedding stays float for the lookups).
   */
  lmHead?: boolean;
  /**
   * GPT only: quantize the embedding tables `wte` and `wpe` too, row by row, as
   * {@link QuantizedEmbedding}s that decode only the looked-up rows (default false: embeddings
   * stay float). A head tied to `wte` follows: it multiplies by the same packed table, so one
   * tensor serves lookup and head (`lmHead` is then moot). What makes GPT-2 124M's weights about
   * 1/4 (int8, q8_0) or 1/7 (q4_0) of f32: `wte` is 31% of them.
   */
  embeddings?: boolean;
}

/** One layer {@link quantizeModel} replaced. */
export interface QuantizedLayerInfo {
  /** Dotted module name. */
  name: string;
  /** `linear` (now a QuantizedLinear) or `embedding` (now a QuantizedEmbedding). */
  kind: 'linear' | 'embedding';
  /** `[outFeatures, inFeatures]` (a table: `[numEmbeddings, embeddingDim]`). */
  shape: [number, number];
  /** Bytes of the float32 weight. */
  floatBytes: number;
  /** Bytes of the packed weight. */
  packedBytes: number;
}

/** What {@link quantizeModel} did. */
export interface QuantizeModelResult {
  /** The resolved format options. */
  options: ResolvedQuantizeOptions;
  /** The layers replaced, in model order (then the tables, with `embeddings`). */
  layers: QuantizedLayerInfo[];
  /** Linear layers (and tables, with `embeddings`) left float (skipped, or the head). */
  skipped: string[];
}

const HEAD_NAMES = ['lm_head', 'cls.predictions.decoder'];

function matches(name: string, skip: readonly string[] | RegExp): boolean {
  if (skip instanceof RegExp) return new RegExp(`^(?:${skip.source})$`, skip.flags).test(name);
  return skip.some((s) => name === s || name.endsWith(`.${s}`));
}

/** The parent module and child name of each dotted module name. */
function parentOf(model: Module, name: string): [Module, string] {
  const dot = name.lastIndexOf('.');
  const parentName = dot < 0 ? '' : name.slice(0, dot);
  const parent = model.namedModules().find(([n]) => n === parentName)?.[1] as Module;
  return [parent, name.slice(dot + 1)];
}

/**
 * Replaces the model's Linear layers by {@link QuantizedLinear}s in place (checking every layer
 * first, so a group size that does not divide a width throws before anything changes).
 *
 * @example
 * ```ts
 * const { layers } = quantizeModel(model, { format: 'int4', groupSize: 32 });
 * console.log(layers.length, layers[0]); // 4 { name: 'h.0.attn.c_attn', kind: 'linear', shape: [96, 32], floatBytes: 12288, packedBytes: 1920 }
 * quantizeModel(gpt, { format: 'q8_0', embeddings: true }); // also wte and wpe; the tied head reads wte's packed rows
 * ```
 */
export function quantizeModel(model: Module, options: QuantizeModelOptions): QuantizeModelResult {
  const { skip = [], lmHead = false, embeddings = false, ...formatOptions } = options;
  rejectUnknownKeys(formatOptions, QUANTIZE_OPTION_KEYS, 'quantizeModel');
  const resolved = resolveQuantizeOptions(formatOptions);
  const targets: [string, Linear][] = [];
  const skipped: string[] = [];
  for (const [name, module] of model.namedModules()) {
    if (!(module instanceof Linear) || name === '') continue;
    if (matches(name, skip) || (!lmHead && HEAD_NAMES.includes(name))) {
      skipped.push(name);
      continue;
    }
    checkShape(resolved, [module.outFeatures, module.inFeatures], `quantizeModel: layer '${name}'`);
    targets.push([name, module]);
  }
  const tables: [string, Embedding][] = [];
  if (embeddings) {
    if (!(model instanceof GPT))
      throw new QuantizeError(
        'unsupported',
        `quantizeModel: embeddings: true quantizes a GPT's wte and wpe; this model is a ${model.constructor.name} (its tables stay float)`,
      );
    for (const [name, module] of model.namedModules()) {
      if (!(module instanceof Embedding)) continue;
      if (matches(name, skip)) {
        skipped.push(name);
        continue;
      }
      checkShape(resolved, module.weight.shape, `quantizeModel: embedding '${name}'`);
      tables.push([name, module]);
    }
  }
  // The weights are read on the host: a backend that reads only asynchronously cannot serve.
  const first = targets[0]?.[1].weight ?? tables[0]?.[1].weight;
  if (first && !first.backend.readSync)
    throw new QuantizeError(
      'unsupported',
      `quantizeModel: the model's weights are on '${first.backend.name}', which reads only asynchronously; quantize on the cpu or js backend, saveQuantized, then loadQuantized(dir, { backend: '${first.backend.name}' })`,
    );
  // A tied head follows a quantized wte; otherwise `lmHead` asks for a quantized copy.
  const tied = tiedEmbedding(model);
  const copyHead = tied !== null && lmHead && !tables.some(([, table]) => table === tied);
  if (copyHead) checkShape(resolved, tied.weight.shape, "quantizeModel: the tied head 'lm_head'");
  const layers: QuantizedLayerInfo[] = [];
  for (const [name, linear] of targets) {
    const quantized = QuantizedLinear.fromLinear(linear, resolved);
    const [parent, child] = parentOf(model, name);
    parent.setModule(child, quantized);
    linear.weight.dispose(); // the bias lives on in the quantized layer
    layers.push(info(name, quantized, resolved));
  }
  if (copyHead) {
    const head = quantizeTensor(tied.weight, resolved);
    model.addModule('lm_head', head);
    (model as unknown as { lm_head: Module }).lm_head = head;
    layers.push(info('lm_head', head, resolved));
  }
  for (const [name, table] of tables) {
    const quantized = QuantizedEmbedding.fromEmbedding(table, resolved);
    const [parent, child] = parentOf(model, name);
    parent.setModule(child, quantized);
    table.weight.dispose();
    layers.push(info(name, quantized, resolved));
  }
  return { options: resolved, layers, skipped };
}

function info(
  name: string,
  layer: QuantizedLinear | QuantizedEmbedding,
  options: ResolvedQuantizeOptions,
): QuantizedLayerInfo {
  const linear = layer instanceof QuantizedLinear;
  const shape: [number, number] = linear
    ? [layer.outFeatures, layer.inFeatures]
    : [layer.numEmbeddings, layer.embeddingDim];
  return {
    name,
    kind: linear ? 'linear' : 'embedding',
    shape,
    floatBytes: 4 * shape[0] * shape[1],
    packedBytes: packedBytes(options, shape),
  };
}

/** The token embedding a GPT's head is tied to (`lm_head` null and `wte` an Embedding), if any. */
export function tiedEmbedding(model: Module): Embedding | null {
  const m = model as unknown as { lm_head?: unknown; wte?: unknown };
  return m.lm_head === null && m.wte instanceof Embedding ? m.wte : null;
}

function quantizeTensor(weight: Tensor, options: ResolvedQuantizeOptions): QuantizedLinear {
  const [rows, columns] = weight.shape;
  const packed = quantizeWeight(
    weight.to('float32').dataSync<Float32Array>(),
    [rows, columns],
    options,
  );
  return new QuantizedLinear(packed, { backend: weight.backend.name });
}

/**
 * Replaces every QuantizedLinear of the model by a float Linear holding its dequantized weight
 * and every QuantizedEmbedding by a float Embedding (a head tied to a quantized `wte` is tied to
 * the float one again; a quantized copy of a tied head becomes a float `lm_head`). Returns how
 * many it replaced.
 *
 * @example
 * ```ts
 * quantizeModel(model, { format: 'int8' });
 * dequantizeModel(model); // every layer a Linear again, weights within int8's rounding
 * ```
 */
export function dequantizeModel(model: Module): number {
  let count = 0;
  for (const [name, module] of model.namedModules()) {
    if (name === '') continue;
    const float =
      module instanceof QuantizedLinear
        ? module.toLinear()
        : module instanceof QuantizedEmbedding
          ? module.toEmbedding()
          : null;
    if (!float) continue;
    const [parent, child] = parentOf(model, name);
    parent.setModule(child, float);
    for (const [, buffer] of module.namedBuffers()) buffer.dispose();
    count++;
  }
  return count;
}

/** The QuantizedEmbedding tables of a model, with their names. */
export function quantizedEmbeddings(model: Module): [string, QuantizedEmbedding][] {
  return model
    .namedModules()
    .filter(
      (entry): entry is [string, QuantizedEmbedding] => entry[1] instanceof QuantizedEmbedding,
    );
}

/** The QuantizedLinear layers of a model, with their names. */
export function quantizedLayers(model: Module): [string, QuantizedLinear][] {
  return model
    .namedModules()
    .filter((entry): entry is [string, QuantizedLinear] => entry[1] instanceof QuantizedLinear);
}
