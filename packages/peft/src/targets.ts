// Which modules an adapter attaches to, by PEFT's rules: a list of names matches a module whose
// dotted name equals an entry or ends with `.` + entry (`c_attn` matches `h.0.attn.c_attn`); a
// regular expression (or a string, as PEFT's JSON writes one) must match the whole name. Names
// are tried in llmkit's form (`h.0.attn.c_attn`) and in Hugging Face's (`transformer.h.0...`),
// so target lists and expressions from PEFT configs work unchanged.
import type { Module } from '@llmkit/core-tensor';
import { GPT } from '@llmkit/transformer';
import { PeftError } from './errors.js';

/** Module names to match: a list of names or name suffixes, or one regular expression. */
export type TargetModules = readonly string[] | RegExp | string;

/**
 * The Hugging Face name of a module of `model`: GPT-2's `GPT2LMHeadModel` keeps the blocks under
 * `transformer.` and the head at `lm_head`; other models keep llmkit's names.
 *
 * @example
 * ```ts
 * huggingFaceModuleName(gpt, 'h.0.attn.c_attn'); // 'transformer.h.0.attn.c_attn'
 * ```
 */
export function huggingFaceModuleName(model: Module, name: string): string {
  if (!(model instanceof GPT) || name === '' || name === 'lm_head' || name.startsWith('lm_head.'))
    return name;
  return `transformer.${name}`;
}

/** The llmkit name of a Hugging Face module name (inverse of {@link huggingFaceModuleName}). */
export function llmkitModuleName(model: Module, name: string): string {
  return model instanceof GPT && name.startsWith('transformer.')
    ? name.slice('transformer.'.length)
    : name;
}

/** True when `name` (or its Hugging Face form) is selected by `targets`. */
export function matchesTarget(model: Module, name: string, targets: TargetModules): boolean {
  const forms = [name, huggingFaceModuleName(model, name)];
  if (typeof targets === 'string' || targets instanceof RegExp) {
    const source = typeof targets === 'string' ? targets : targets.source;
    const whole = new RegExp(`^(?:${source})$`, typeof targets === 'string' ? '' : targets.flags);
    return forms.some((form) => whole.test(form));
  }
  return forms.some((form) => targets.some((t) => form === t || form.endsWith(`.${t}`)));
}

/** A target list as PEFT's JSON writes it: a list of names, or the expression's source. */
export function targetModulesToJson(targets: TargetModules): string[] | string {
  if (typeof targets === 'string') return targets;
  if (targets instanceof RegExp) return targets.source;
  return [...targets];
}

/**
 * The modules of `model` that `targets` selects, with their names, in model order. Throws before
 * anything changes when none match (listing the candidates) or when a match is of a kind the
 * method cannot adapt (naming it and the kinds it can).
 */
export function findTargets<M extends Module>(
  model: Module,
  targets: TargetModules,
  where: string,
  kinds: { name: string; accepts: (module: Module) => module is M }[],
): [string, M][] {
  const candidates = model
    .namedModules()
    .filter(([name, module]) => name !== '' && kinds.some((kind) => kind.accepts(module)));
  const selected = model
    .namedModules()
    .filter(([name]) => name !== '' && matchesTarget(model, name, targets));
  const shown = JSON.stringify(targetModulesToJson(targets));
  // ['Linear', 'Embedding', 'QuantizedLinear'] -> 'Linear, Embedding and QuantizedLinear'
  const list = (word: string) => {
    const names = kinds.map((k) => k.name);
    return names.length === 1
      ? names[0]
      : `${names.slice(0, -1).join(', ')} ${word} ${names.at(-1)}`;
  };
  if (selected.length === 0) {
    throw new PeftError(
      'invalid_argument',
      `${where}: targetModules ${shown} match no module of the model; its ${list('and')} modules are: ${candidates.map(([name]) => name).join(', ')}`,
    );
  }
  const wrongKind = selected.filter(([, module]) => !kinds.some((kind) => kind.accepts(module)));
  if (wrongKind.length > 0) {
    const [name, module] = wrongKind[0];
    throw new PeftError(
      'invalid_argument',
      `${where}: targetModules ${shown} select '${name}', a ${module.constructor.name}; expected only ${list('or')} modules`,
    );
  }
  return selected as [string, M][];
}
