// IA3 as a registered method: vectors `ia3_l` on the target Linears, saved under PEFT's keys
// (`base_model.model.transformer.h.0.attn.c_attn.ia3_l`).
import { Linear, type Module } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import type { AdapterTensorEntry, AttachedAdapter, PeftMethod } from '../registry.js';
import { findTargets, targetModulesToJson } from '../targets.js';
import { type Ia3Config, isFeedforward, resolveIa3Config } from './config.js';
import { type Ia3Layer, ia3LayerOf } from './layer.js';

function attachIa3(model: Module, config: Ia3Config, adapterName: string): AttachedAdapter {
  const targets = findTargets<Linear>(model, config.targetModules, 'IA3', [
    { name: 'Linear', accepts: (m): m is Linear => m instanceof Linear },
  ]);
  const attached: Ia3Layer[] = [];
  const entries: AdapterTensorEntry[] = [];
  for (const [name, base] of targets) {
    const layer = ia3LayerOf(base);
    const vector = layer.add(adapterName, isFeedforward(model, name, config));
    entries.push({ module: name, key: 'ia3_l', tensor: vector });
    attached.push(layer);
  }
  let merged = false;
  return {
    trainable: () => entries.map((e) => e.tensor),
    entries: () => entries,
    setActive(active) {
      for (const layer of attached) {
        if (active) layer.active = adapterName;
        else if (layer.active === adapterName) layer.active = null;
      }
    },
    merge() {
      for (const layer of attached) layer.merge(adapterName);
      merged = true;
    },
    unmerge() {
      for (const layer of attached) layer.unmerge(adapterName);
      merged = false;
    },
    get merged() {
      return merged;
    },
    remove(keepMerged = false) {
      for (const layer of attached) layer.remove(adapterName, keepMerged);
    },
  };
}

/**
 * IA3 (Liu et al., 2022) as a {@link PeftMethod}: registered under `ia3` / `IA3`.
 *
 * @example
 * ```ts
 * const peft = getPeftModel(gpt, { method: 'ia3' }); // c_attn and mlp.c_proj, PEFT's GPT-2 default
 * ```
 */
export const ia3: PeftMethod<Ia3Config> = {
  name: 'ia3',
  peftType: 'IA3',
  mergeable: true,
  resolve: resolveIa3Config,
  attach: attachIa3,
  toJson(config, model) {
    return {
      target_modules: targetModulesToJson(config.targetModules),
      feedforward_modules: [...config.feedforwardModules],
      fan_in_fan_out: config.fanInFanOut ?? model instanceof GPT,
      init_ia3_weights: true,
    };
  },
  fromJson(json) {
    return resolveIa3Config({
      targetModules: json.target_modules,
      feedforwardModules: json.feedforward_modules ?? [],
      fanInFanOut: json.fan_in_fan_out ?? undefined,
      modulesToSave: json.modules_to_save ?? [],
    });
  },
};
