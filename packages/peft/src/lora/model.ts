// LoRA as a registered method: attach LoRA layers to the target modules, train A and B (and the
// biases `bias` asks for), merge, save in PEFT's names (`<module>.lora_A.weight` [r, in],
// `<module>.lora_B.weight` [out, r], `lora_embedding_A` / `lora_embedding_B` for embeddings).
import { Embedding, Generator, Linear, type Module } from '@llmkit/core-tensor';
import { QuantizedLinear } from '@llmkit/quantize';
import { GPT } from '@llmkit/transformer';
import { PeftError } from '../errors.js';
import type { AdapterTensorEntry, AttachedAdapter, PeftMethod } from '../registry.js';
import { findTargets, targetModulesToJson } from '../targets.js';
import { type LoraConfig, loraScaling, resolveLoraConfig } from './config.js';
import { type LoraBase, type LoraLayer, loraLayerOf } from './layer.js';

const WHERE = 'LoRA';

/** The Linear and Embedding modules `config.targetModules` selects (throws when none). */
export function loraTargets(model: Module, config: LoraConfig): [string, LoraBase][] {
  return findTargets<LoraBase>(model, config.targetModules, WHERE, [
    { name: 'Linear', accepts: (m): m is Linear => m instanceof Linear },
    { name: 'Embedding', accepts: (m): m is Embedding => m instanceof Embedding },
    {
      name: 'QuantizedLinear',
      accepts: (m): m is QuantizedLinear => m instanceof QuantizedLinear,
    },
  ]);
}

/** Biases `bias` trains: those of adapted layers (`lora_only`), every one (`all`), or none. */
function trainedBiases(
  model: Module,
  targets: [string, LoraBase][],
  bias: LoraConfig['bias'],
): AdapterTensorEntry[] {
  if (bias === 'none') return [];
  const adapted = new Map(targets.map(([name, base]) => [base as Module, name]));
  const out: AdapterTensorEntry[] = [];
  for (const [name, module] of model.namedModules()) {
    if (bias === 'lora_only' && !adapted.has(module)) continue;
    const own = module.stateDict().bias;
    if (!own || !module.parameters().includes(own)) continue;
    // PEFT keeps an adapted layer's own weights under `base_layer.`
    out.push({ module: name, key: adapted.has(module) ? 'base_layer.bias' : 'bias', tensor: own });
  }
  return out;
}

function attachLora(model: Module, config: LoraConfig, adapterName: string): AttachedAdapter {
  const targets = loraTargets(model, config); // checks before anything changes
  const biases = trainedBiases(model, targets, config.bias);
  const scaling = loraScaling(config);
  const generator = config.seed === undefined ? undefined : new Generator(config.seed);
  const attached: [string, LoraLayer][] = [];
  const entries: AdapterTensorEntry[] = [];
  for (const [name, base] of targets) {
    const layer = loraLayerOf(base);
    const { A, B } = layer.add(adapterName, {
      r: config.r,
      scaling,
      dropout: config.dropout,
      generator,
    });
    const prefix = base instanceof Embedding ? 'lora_embedding_' : 'lora_';
    const suffix = base instanceof Embedding ? '' : '.weight';
    entries.push({ module: name, key: `${prefix}A${suffix}`, tensor: A });
    entries.push({ module: name, key: `${prefix}B${suffix}`, tensor: B });
    attached.push([name, layer]);
  }
  entries.push(...biases);
  let merged = false;
  return {
    trainable: () => entries.map((e) => e.tensor),
    entries: () => entries,
    setActive(active) {
      for (const [, layer] of attached) {
        if (active) layer.active = adapterName;
        else if (layer.active === adapterName) layer.active = null;
      }
    },
    merge() {
      const frozen = attached.find(([, layer]) => !layer.mergeable);
      if (frozen)
        // checked first, so no layer is left merged alone
        throw new PeftError(
          'unsupported',
          `LoRA merge: '${frozen[0]}' is a QuantizedLinear; its packed weight cannot take the update (dequantize the model first)`,
        );
      for (const [, layer] of attached) layer.merge(adapterName);
      merged = true;
    },
    unmerge() {
      for (const [, layer] of attached) layer.unmerge(adapterName);
      merged = false;
    },
    get merged() {
      return merged;
    },
    remove(keepMerged = false) {
      for (const [, layer] of attached) layer.remove(adapterName, keepMerged);
    },
  };
}

/**
 * LoRA (Hu et al., 2021) as a {@link PeftMethod}: registered under `lora` / `LORA`.
 *
 * @example
 * ```ts
 * const peft = getPeftModel(gpt, { method: 'lora', r: 8, alpha: 16, targetModules: ['c_attn'] });
 * ```
 */
export const lora: PeftMethod<LoraConfig> = {
  name: 'lora',
  peftType: 'LORA',
  mergeable: true,
  resolve: resolveLoraConfig,
  attach: attachLora,
  toJson(config, model) {
    return {
      r: config.r,
      lora_alpha: config.alpha,
      lora_dropout: config.dropout,
      target_modules: targetModulesToJson(config.targetModules),
      fan_in_fan_out: config.fanInFanOut ?? model instanceof GPT,
      bias: config.bias,
      use_rslora: config.useRslora,
      init_lora_weights: true,
      use_dora: false,
      layers_to_transform: null,
      layers_pattern: null,
      rank_pattern: {},
      alpha_pattern: {},
    };
  },
  fromJson(json) {
    for (const [field, harmless] of [
      ['use_dora', (v: unknown) => v === undefined || v === false],
      ['layers_to_transform', (v: unknown) => v === undefined || v === null],
      ['rank_pattern', isEmpty],
      ['alpha_pattern', isEmpty],
    ] as const) {
      if (!harmless(json[field])) {
        throw new PeftError(
          'unsupported',
          `adapter_config.json: ${field} ${JSON.stringify(json[field])} is not supported (llmkit's LoRA has one rank and alpha for every layer, no DoRA)`,
        );
      }
    }
    return resolveLoraConfig({
      r: json.r,
      alpha: json.lora_alpha,
      dropout: json.lora_dropout ?? 0,
      targetModules: json.target_modules,
      bias: json.bias ?? 'none',
      useRslora: json.use_rslora ?? false,
      fanInFanOut: json.fan_in_fan_out ?? undefined,
      modulesToSave: json.modules_to_save ?? [],
    });
  },
};

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'object' && Object.keys(value as object).length === 0)
  );
}
