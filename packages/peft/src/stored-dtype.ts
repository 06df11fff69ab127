// Updates of a base weight kept in a 16-bit storage dtype (a model loaded as bfloat16 / float16):
// computed in float32 and rounded once back to the weight's dtype, as merging into a half
// model in PEFT does.
import { cast, isHalfDType, type Tensor } from '@llmkit/core-tensor';

/**
 * `update(weight)` computed in float32 and returned in `weight`'s dtype (the same call for a
 * float weight).
 *
 * @example
 * ```ts
 * const merged = inStoredDType(base.weight, (w) => add(w, delta)); // bfloat16 in, bfloat16 out
 * ```
 */
export function inStoredDType(weight: Tensor, update: (weight: Tensor) => Tensor): Tensor {
  if (!isHalfDType(weight.dtype)) return update(weight);
  const float = cast(weight, 'float32');
  const updated = update(float);
  const stored = cast(updated, weight.dtype);
  float.dispose();
  updated.dispose();
  return stored;
}
