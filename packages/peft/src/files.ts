// Adapters in Hugging Face PEFT's file layout: a folder with `adapter_config.json` and
// `adapter_model.safetensors`, keys as PEFT's `get_peft_model_state_dict` writes them:
// `base_model.model.<Hugging Face module name>.<tensor>` with no adapter name
// (`base_model.model.transformer.h.0.attn.c_attn.lora_A.weight`, `...c_attn.ia3_l`), and
// `prompt_embeddings` at the top for prompt tuning. One adapter per folder (PEFT puts
// non-default adapters in sub-folders; save each one to its own folder here).
import {
  cast,
  contiguous,
  dispose,
  formatShape,
  type Module,
  noGrad,
  readSafetensors,
  type Tensor,
  transpose,
  writeSafetensors,
} from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { writeFolderAtomic } from '@llmkit/utils';
import { asPeftError, PeftError } from './errors.js';
import { type PeftConfig, PeftModel } from './peft-model.js';
import { type AdapterTensorEntry, methodByName } from './registry.js';
import { huggingFaceModuleName } from './targets.js';

/** The adapter config file's name. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
/** The adapter weights file's name. */
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

// GPT-2's Conv1D layers store weights [in, out] in Hugging Face files (as transformer's hf/convert);
// only whole weights saved through modulesToSave meet this, LoRA's A and B are layout-free.
const CONV1D = /^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)$/;

function isConv1DWeight(model: Module, entry: AdapterTensorEntry): boolean {
  return model instanceof GPT && entry.key === 'weight' && CONV1D.test(entry.module ?? '');
}

/**
 * The key of an adapter tensor in PEFT's file.
 *
 * @example
 * ```ts
 * peftKey(gpt, { module: 'h.0.attn.c_attn', key: 'lora_A.weight', tensor }); // 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'
 * ```
 */
export function peftKey(model: Module, entry: AdapterTensorEntry): string {
  if (entry.module === null) return entry.key;
  return `base_model.model.${huggingFaceModuleName(model, entry.module)}.${entry.key}`;
}

/** Options of {@link saveAdapter}. */
export interface SaveAdapterOptions {
  /** Which adapter (default: the active one). */
  adapterName?: string;
  /** `base_model_name_or_path` of the config (the base model's hub id or folder); default null. */
  baseModelNameOrPath?: string | null;
  /** PEFT's `task_type` (default `CAUSAL_LM`). */
  taskType?: string;
}

/** The adapter_config.json object of one adapter. */
export function adapterConfigJson(
  peft: PeftModel,
  adapterName: string,
  options: SaveAdapterOptions = {},
): Record<string, unknown> {
  const method = peft.adapterMethod(adapterName);
  const config = peft.adapterConfig(adapterName);
  const modulesToSave = config.modulesToSave ?? [];
  return {
    peft_type: method.peftType,
    task_type: options.taskType ?? 'CAUSAL_LM',
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    revision: null,
    inference_mode: true,
    auto_mapping: null,
    modules_to_save: modulesToSave.length ? [...modulesToSave] : null,
    ...method.toJson(config, peft.base),
  };
}

/**
 * Writes one adapter as PEFT's `save_pretrained` does: `dir/adapter_config.json` and
 * `dir/adapter_model.safetensors`, the folder replaced atomically. PEFT's `PeftModel.from_pretrained`
 * reads it.
 *
 * @example
 * ```ts
 * await saveAdapter(peft, './my-lora', { baseModelNameOrPath: 'gpt2' });
 * // Python: PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained('gpt2'), './my-lora')
 * ```
 */
export async function saveAdapter(
  peft: PeftModel,
  dir: string,
  options: SaveAdapterOptions = {},
): Promise<void> {
  const name = options.adapterName ?? peft.activeAdapter ?? peft.adapterNames[0];
  if (name === undefined) throw new PeftError('invalid_argument', 'saveAdapter: no adapter');
  const json = adapterConfigJson(peft, name, options);
  const tensors: Record<string, Tensor> = {};
  const made: Tensor[] = [];
  for (const entry of peft.adapterEntries(name)) {
    let t = entry.tensor;
    if (isConv1DWeight(peft.base, entry)) {
      t = noGrad(() => contiguous(transpose(entry.tensor)));
      made.push(t);
    }
    tensors[peftKey(peft.base, entry)] = t;
  }
  try {
    const bytes = await writeSafetensors(tensors, { format: 'pt' });
    await writeFolderAtomic(dir, {
      [ADAPTER_CONFIG_FILE]: `${JSON.stringify(json, null, 2)}\n`,
      [ADAPTER_WEIGHTS_FILE]: bytes,
    });
  } finally {
    dispose(made);
  }
}

/** Options of {@link loadAdapter}. */
export interface LoadAdapterOptions {
  /** The name the adapter gets (default `'default'`). */
  adapterName?: string;
  /** When set, the file's `base_model_name_or_path` must equal it. */
  baseModelNameOrPath?: string;
  /** Backend for the adapter tensors (default: the active one). */
  backend?: string;
}

async function readAdapterFolder(
  dir: string,
  backend: string | undefined,
): Promise<{ json: Record<string, unknown>; tensors: Record<string, Tensor> }> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await fs.readFile(join(dir, file));
    } catch (error) {
      throw new PeftError(
        'not_found',
        `loadAdapter: cannot read ${join(dir, file)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
  let json: Record<string, unknown>;
  const text = (await read(ADAPTER_CONFIG_FILE)).toString('utf8');
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PeftError(
      'corrupt_file',
      `loadAdapter: ${join(dir, ADAPTER_CONFIG_FILE)} is not JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!json || typeof json !== 'object' || typeof json.peft_type !== 'string')
    throw new PeftError(
      'corrupt_file',
      `loadAdapter: ${join(dir, ADAPTER_CONFIG_FILE)} has no peft_type (is it a PEFT adapter_config.json?)`,
    );
  const bytes = await read(ADAPTER_WEIGHTS_FILE);
  let tensors: Record<string, Tensor>;
  try {
    tensors = readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      backend,
    });
  } catch (error) {
    throw new PeftError(
      'corrupt_file',
      `loadAdapter: ${join(dir, ADAPTER_WEIGHTS_FILE)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { json, tensors };
}

/**
 * Loads an adapter folder in PEFT's layout onto `model` (a plain model, which is wrapped, or a
 * PeftModel, which gains the adapter). Every key and shape is checked against the model before
 * anything is copied: a file that does not fit (another base model, another rank, missing or extra
 * keys) throws one error listing every problem, and the model is left as it was.
 *
 * @example
 * ```ts
 * const peft = await loadAdapter(await loadPretrained('./gpt2'), './my-lora');
 * const { logits } = peft.forward([[464, 3290]]);
 * ```
 */
export async function loadAdapter<M extends Module>(
  model: M | PeftModel<M>,
  dir: string,
  options: LoadAdapterOptions = {},
): Promise<PeftModel<M>> {
  const adapterName = options.adapterName ?? 'default';
  const { json, tensors } = await readAdapterFolder(dir, options.backend);
  try {
    const base = json.base_model_name_or_path;
    if (options.baseModelNameOrPath !== undefined && base !== options.baseModelNameOrPath)
      throw new PeftError(
        'invalid_data',
        `loadAdapter: ${dir} was made for base model ${JSON.stringify(base)}, expected ${JSON.stringify(options.baseModelNameOrPath)}`,
      );
    const method = methodByName(json.peft_type as string);
    const config = asPeftError(() => method.fromJson(json));
    const created = !(model instanceof PeftModel);
    const peft = created ? new PeftModel(model as M) : (model as PeftModel<M>);
    const frozenBefore = new Map(peft.base.parameters().map((p) => [p, p.requiresGrad]));
    peft.addAdapter(adapterName, config as PeftConfig); // validates the config and the targets first
    try {
      copyAdapterTensors(peft, adapterName, tensors, dir);
    } catch (error) {
      peft.deleteAdapter(adapterName);
      for (const [p, flag] of frozenBefore) p.requiresGrad_(flag);
      throw error;
    }
    return peft;
  } finally {
    dispose(Object.values(tensors));
  }
}

// checks every key and shape, then copies; nothing is copied when anything does not fit
function copyAdapterTensors(
  peft: PeftModel,
  adapterName: string,
  tensors: Record<string, Tensor>,
  dir: string,
): void {
  const entries = peft.adapterEntries(adapterName);
  const missing: string[] = [];
  const mismatched: string[] = [];
  const plan: [Tensor, Tensor, boolean][] = [];
  for (const entry of entries) {
    const key = peftKey(peft.base, entry);
    const source = tensors[key];
    if (!source) {
      missing.push(key);
      continue;
    }
    const conv1D = isConv1DWeight(peft.base, entry);
    const want = conv1D ? [...entry.tensor.shape].reverse() : entry.tensor.shape;
    if (formatShape(source.shape) !== formatShape(want)) {
      mismatched.push(
        `${key}: ${formatShape(source.shape)} in the file, the model needs ${formatShape(want)}`,
      );
      continue;
    }
    plan.push([entry.tensor, source, conv1D]);
  }
  const known = new Set(entries.map((e) => peftKey(peft.base, e)));
  const unexpected = Object.keys(tensors).filter((key) => !known.has(key));
  if (missing.length + mismatched.length + unexpected.length > 0) {
    const parts = [
      missing.length ? `missing keys: ${missing.join(', ')}` : '',
      unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '',
      mismatched.length ? `shape mismatches: ${mismatched.join('; ')}` : '',
    ].filter(Boolean);
    throw new PeftError(
      'invalid_data',
      `loadAdapter: ${dir} does not fit this model (another base model or config?): ${parts.join('; ')}`,
    );
  }
  noGrad(() => {
    for (const [target, source, conv1D] of plan) {
      const oriented = conv1D ? contiguous(transpose(source)) : source;
      const converted = oriented.dtype === target.dtype ? oriented : cast(oriented, target.dtype);
      target.assign(converted);
      if (converted !== oriented) converted.dispose();
      if (oriented !== source) oriented.dispose();
    }
  });
}
