// modulesToSave: whole modules (a new classification head, a final norm) trained beside an
// adapter and saved in its file. Each adapter owns a copy of their values, as PEFT's
// ModulesToSaveWrapper does; the live parameters hold the active adapter's copy, and switching
// adapters swaps values in place (so the model's forward needs no change).
import { contiguous, keep, type Module, noGrad, type Tensor } from '@llmkit/core-tensor';
import { PeftError } from './errors.js';
import type { AdapterTensorEntry } from './registry.js';
import { matchesTarget } from './targets.js';

/** The parameters of the modules `names` selects, as adapter file entries on their modules. */
export function modulesToSaveEntries(
  model: Module,
  names: readonly string[],
  where: string,
): AdapterTensorEntry[] {
  if (names.length === 0) return [];
  const selected = model
    .namedModules()
    .filter(([name]) => name !== '' && matchesTarget(model, name, names));
  if (selected.length === 0) {
    throw new PeftError(
      'invalid_argument',
      `${where}: modulesToSave ${JSON.stringify(names)} match no module of the model; its modules are: ${model
        .namedModules()
        .map(([name]) => name)
        .filter(Boolean)
        .join(', ')}`,
    );
  }
  const out: AdapterTensorEntry[] = [];
  const seen = new Set<Tensor>();
  for (const [moduleName, module] of selected) {
    for (const [key, tensor] of module.namedParameters()) {
      if (seen.has(tensor)) continue;
      seen.add(tensor);
      out.push({ module: moduleName, key, tensor });
    }
  }
  return out;
}

/** A detached copy of a tensor's values, outside any tidy scope. */
export function copyOf(t: Tensor): Tensor {
  return keep(noGrad(() => contiguous(t.detach(), true)));
}

/** Copies `source`'s values into `target` (same shape and dtype). */
export function assignValues(target: Tensor, source: Tensor): void {
  noGrad(() => target.assign(source));
}
