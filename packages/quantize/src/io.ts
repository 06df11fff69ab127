// Quantized checkpoints: a folder with `config.json` (transformer's checkpoint config, so the
// architecture is rebuilt as `load` does), `quantization.json` (the format options and the
// [out, in] shape of every quantized layer, and of every quantized embedding table; a head tied to
// a quantized `wte` has no tensors of its own) and `model.safetensors` (float tensors as float32,
// packed parts in their own dtypes: U8, I8, F16, BF16, F32 scales). The folder is written with
// writeFolderAtomic: on any failure nothing is left behind. Loading checks every part's dtype and
// shape against the config before building anything.
import {
  Embedding,
  fromValues,
  Linear,
  type Module,
  noGrad,
  parseSafetensors,
  serializeSafetensors,
  type SafetensorsEntry,
  type Tensor,
  withoutInit,
} from '@llmkit/core-tensor';
import {
  type CheckpointConfig,
  describeModel,
  GPT,
  modelFromCheckpointConfig,
  type TransformerModel,
} from '@llmkit/transformer';
import { writeFolderAtomic } from '@llmkit/utils';
import { QuantizeError } from './errors.js';
import { checkParts } from './formats/index.js';
import {
  type PackedArray,
  partSpecs,
  type QuantizedWeight,
  type QuantizeOptions,
  type ResolvedQuantizeOptions,
  resolveQuantizeOptions,
} from './formats/types.js';
import { QuantizedEmbedding } from './embedding.js';
import { partKey, QuantizedLinear } from './linear.js';
import { quantizedEmbeddings, quantizedLayers } from './model.js';

/** The `quantization.json` of a quantized checkpoint. */
export interface QuantizationConfig {
  /** Always `llmkit-quantize`. */
  format: 'llmkit-quantize';
  /** File layout version (1). */
  version: 1;
  /** Each quantized layer by dotted name: its options and `[outFeatures, inFeatures]`. */
  layers: Record<string, ResolvedQuantizeOptions & { shape: [number, number] }>;
  /**
   * Each quantized embedding table by dotted name (`wte`, `wpe`): its options and
   * `[numEmbeddings, embeddingDim]`; absent when the tables are float.
   */
  embeddings?: Record<string, ResolvedQuantizeOptions & { shape: [number, number] }>;
}

/** transformer's config description, with this package's error class for a non-model. */
function describe(model: TransformerModel): CheckpointConfig {
  try {
    return describeModel(model, 'saveQuantized');
  } catch (error) {
    throw new QuantizeError('invalid_argument', (error as Error).message, { cause: error });
  }
}

/**
 * Saves a quantized model to `dir` (replacing it atomically): config.json, quantization.json
 * and model.safetensors. Throws `invalid_argument` for a model with no quantized layer.
 *
 * @example
 * ```ts
 * quantizeModel(model, { format: 'q8_0' });
 * await saveQuantized(model, 'out/shakespeare-q8_0');
 * ```
 */
export async function saveQuantized(model: TransformerModel, dir: string): Promise<void> {
  const description = describe(model);
  const layers = quantizedLayers(model);
  const tables = quantizedEmbeddings(model);
  if (layers.length === 0 && tables.length === 0)
    throw new QuantizeError(
      'invalid_argument',
      'saveQuantized: the model has no QuantizedLinear layer; quantize it with quantizeModel first (float models save with transformer.save)',
    );
  const config: QuantizationConfig = { format: 'llmkit-quantize', version: 1, layers: {} };
  for (const [name, layer] of layers)
    config.layers[name] = { ...layer.options, shape: [layer.outFeatures, layer.inFeatures] };
  if (tables.length) config.embeddings = {};
  for (const [name, table] of tables)
    (config.embeddings as NonNullable<QuantizationConfig['embeddings']>)[name] = {
      ...table.options,
      shape: [table.numEmbeddings, table.embeddingDim],
    };
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    if (name in entries) continue;
    entries[name] = { dtype: t.dtype, shape: t.shape.slice(), data: await t.data() };
  }
  await writeFolderAtomic(dir, {
    'model.safetensors': serializeSafetensors(entries, { format: 'llmkit-quantize' }),
    'quantization.json': `${JSON.stringify(config, null, 2)}\n`,
    'config.json': `${JSON.stringify(description, null, 2)}\n`,
  });
}

/** True when `dir` holds a quantized checkpoint (a quantization.json). */
export async function isQuantizedCheckpoint(dir: string): Promise<boolean> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  return fs.access(join(dir, 'quantization.json')).then(
    () => true,
    () => false,
  );
}

async function readJson(path: string, where: string): Promise<Record<string, unknown>> {
  const fs = await import('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'corrupt_file';
    throw new QuantizeError(code, `${where}: cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object') throw new Error('not a JSON object');
    return value;
  } catch (error) {
    throw new QuantizeError(
      'corrupt_file',
      `${where}: ${path} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Loads a folder written by {@link saveQuantized}. A config that disagrees with the tensors
 * (a layer the model lacks or of another shape, a missing part, a part of the wrong dtype or
 * shape) is a `corrupt_file` error naming the tensor and what was expected.
 *
 * @example
 * ```ts
 * const model = await loadQuantized('out/shakespeare-q8_0');
 * ```
 */
export async function loadQuantized(
  dir: string,
  options: { backend?: string } = {},
): Promise<TransformerModel> {
  const where = 'loadQuantized';
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  const description = (await readJson(
    join(dir, 'config.json'),
    where,
  )) as unknown as CheckpointConfig;
  if (description.format !== 'llmkit-transformer')
    throw new QuantizeError(
      'corrupt_file',
      `${where}: ${join(dir, 'config.json')} has format ${JSON.stringify(description.format)}, expected "llmkit-transformer"`,
    );
  const config = (await readJson(
    join(dir, 'quantization.json'),
    where,
  )) as unknown as QuantizationConfig;
  if (
    config.format !== 'llmkit-quantize' ||
    config.version !== 1 ||
    typeof config.layers !== 'object' ||
    config.layers === null ||
    (config.embeddings !== undefined &&
      (typeof config.embeddings !== 'object' || config.embeddings === null))
  )
    throw new QuantizeError(
      'corrupt_file',
      `${where}: quantization.json has format ${JSON.stringify(config.format)} version ${JSON.stringify(config.version)}, expected "llmkit-quantize" version 1 with a layers object (and optionally an embeddings object)`,
    );
  let bytes: Uint8Array;
  try {
    const buffer = await fs.readFile(join(dir, 'model.safetensors'));
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw new QuantizeError(
      'not_found',
      `${where}: cannot read ${join(dir, 'model.safetensors')}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { tensors } = parseSafetensors(bytes);
  const model = withoutInit(() => modelFromCheckpointConfig(description));
  try {
    const layers: [string, Module][] = [
      ...buildLayers(model, config, tensors, options.backend),
      ...buildTables(model, config, tensors, options.backend),
    ];
    for (const [name, layer] of layers) attach(model, name, layer);
    const rest: Record<string, Tensor> = {};
    const packed = new Set(
      layers.flatMap(([name, layer]) => Object.keys(layer.stateDict()).map((k) => `${name}.${k}`)),
    );
    for (const [name, entry] of Object.entries(tensors)) {
      if (packed.has(name)) continue;
      rest[name] = fromValues(entry.data, entry.shape, {
        dtype: entry.dtype,
        backend: options.backend,
      });
    }
    try {
      const result = noGrad(() => model.loadStateDict(rest, { strict: false }));
      const problems = [
        ...result.missing.filter((k) => !packed.has(k)).map((k) => `missing '${k}'`),
        ...result.unexpected.map((k) => `unexpected '${k}'`),
        ...result.mismatched.map((k) => `shape of ${k}`),
      ];
      if (problems.length)
        throw new QuantizeError(
          'corrupt_file',
          `loadQuantized: model.safetensors does not match config.json: ${problems.join('; ')}`,
        );
    } finally {
      for (const t of Object.values(rest)) t.dispose();
    }
  } catch (error) {
    model.dispose();
    if (error instanceof QuantizeError) throw error;
    throw new QuantizeError('corrupt_file', `${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return model;
}

/** QuantizedLinear layers from the file's parts, checked against quantization.json and the model. */
function buildLayers(
  model: Module,
  config: QuantizationConfig,
  tensors: Record<string, SafetensorsEntry>,
  backend: string | undefined,
): [string, QuantizedLinear][] {
  const where = 'loadQuantized';
  const modules = new Map(model.namedModules());
  const out: [string, QuantizedLinear][] = [];
  for (const [name, layer] of Object.entries(config.layers)) {
    const { shape, resolved } = readEntry(name, layer, 'layer');
    const module = modules.get(name);
    const tiedHead =
      name === 'lm_head' && module === undefined && model instanceof GPT && model.lm_head === null;
    const expected: [number, number] | null =
      module instanceof Linear
        ? [module.outFeatures, module.inFeatures]
        : tiedHead
          ? ([...(model as GPT).wte.weight.shape] as [number, number])
          : null;
    if (!expected)
      throw new QuantizeError(
        'corrupt_file',
        `${where}: quantization.json lists layer '${name}', which is not a Linear layer of this ${model.constructor.name}`,
      );
    if (!Array.isArray(shape) || shape[0] !== expected[0] || shape[1] !== expected[1])
      throw new QuantizeError(
        'corrupt_file',
        `${where}: quantization.json gives layer '${name}' shape ${JSON.stringify(shape)}, but the model's layer is [${expected.join(',')}]`,
      );
    const weight = readPacked(name, resolved, expected, tensors, 'layer');
    const bias = tensors[`${name}.bias`];
    const biasTensor = bias
      ? fromValues(bias.data, bias.shape, { dtype: bias.dtype, backend })
      : null;
    if (module instanceof Linear && (module.bias !== null) !== (biasTensor !== null))
      throw new QuantizeError(
        'corrupt_file',
        `${where}: layer '${name}' ${module.bias ? 'needs' : 'has no'} a bias, but model.safetensors ${bias ? 'has one' : 'lacks it'}`,
      );
    out.push([name, new QuantizedLinear(weight, { bias: biasTensor, backend })]);
  }
  return out;
}

/** QuantizedEmbedding tables from the file's parts, checked against quantization.json and the model. */
function buildTables(
  model: Module,
  config: QuantizationConfig,
  tensors: Record<string, SafetensorsEntry>,
  backend: string | undefined,
): [string, QuantizedEmbedding][] {
  const modules = new Map(model.namedModules());
  return Object.entries(config.embeddings ?? {}).map(([name, entry]) => {
    const { shape, resolved } = readEntry(name, entry, 'embedding');
    const module = modules.get(name);
    if (!(module instanceof Embedding))
      throw new QuantizeError(
        'corrupt_file',
        `loadQuantized: quantization.json lists embedding '${name}', which is not an Embedding of this ${model.constructor.name}`,
      );
    const expected: [number, number] = [module.numEmbeddings, module.embeddingDim];
    if (!Array.isArray(shape) || shape[0] !== expected[0] || shape[1] !== expected[1])
      throw new QuantizeError(
        'corrupt_file',
        `loadQuantized: quantization.json gives embedding '${name}' shape ${JSON.stringify(shape)}, but the model's table is [${expected.join(',')}]`,
      );
    const table = readPacked(name, resolved, expected, tensors, 'embedding');
    return [name, new QuantizedEmbedding(table, { backend })];
  });
}

/** One entry of quantization.json: its shape and resolved options (`corrupt_file` if bad). */
function readEntry(
  name: string,
  entry: unknown,
  kind: 'layer' | 'embedding',
): { shape: unknown; resolved: ResolvedQuantizeOptions } {
  const { shape, ...rest } = (entry ?? {}) as Record<string, unknown>;
  try {
    return { shape, resolved: resolveQuantizeOptions(rest as unknown as QuantizeOptions) };
  } catch (error) {
    throw new QuantizeError(
      'corrupt_file',
      `loadQuantized: quantization.json ${kind} '${name}': ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The packed parts of `name` from the file, each checked for dtype and shape. */
function readPacked(
  name: string,
  resolved: ResolvedQuantizeOptions,
  expected: [number, number],
  tensors: Record<string, SafetensorsEntry>,
  kind: 'layer' | 'embedding',
): QuantizedWeight {
  const where = 'loadQuantized';
  const parts: Record<string, PackedArray> = {};
  for (const [part, spec] of Object.entries(partSpecs(resolved, expected))) {
    const key = `${name}.${partKey(part)}`;
    const entry = tensors[key];
    if (!entry)
      throw new QuantizeError(
        'corrupt_file',
        `${where}: model.safetensors lacks '${key}' (${spec.dtype} [${spec.shape.join(',')}]) of a '${resolved.format}' ${kind}`,
      );
    if (entry.dtype !== spec.dtype || entry.shape.join(',') !== spec.shape.join(','))
      throw new QuantizeError(
        'corrupt_file',
        `${where}: '${key}' is ${entry.dtype} [${entry.shape.join(',')}], but a '${resolved.format}' ${kind} [${expected.join(',')}] needs ${spec.dtype} [${spec.shape.join(',')}]`,
      );
    parts[part] = entry.data as PackedArray;
  }
  const weight = { options: resolved, shape: expected, parts };
  checkParts(weight, `${where}: ${kind} '${name}'`);
  return weight;
}

function attach(model: Module, name: string, layer: Module): void {
  const dot = name.lastIndexOf('.');
  const parent =
    dot < 0 ? model : (new Map(model.namedModules()).get(name.slice(0, dot)) as Module);
  const child = name.slice(dot + 1);
  const old = parent.namedChildren().find(([n]) => n === child)?.[1];
  if (old) {
    parent.setModule(child, layer);
    old.dispose();
  } else {
    parent.addModule(child, layer);
    (parent as unknown as Record<string, unknown>)[child] = layer;
  }
}
