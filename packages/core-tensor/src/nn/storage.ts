// Weights kept in a 16-bit storage dtype (bfloat16 / float16): the float32 values drawn by an
// initialiser rounded once to the storage dtype, the float copy freed.
import { noGrad } from '../autograd/grad-mode.js';
import type { DType } from '../dtype.js';
import { cast } from '../ops/cast.js';
import type { Tensor } from '../tensor.js';

/** `weight` (float32, freshly initialised) rounded to `dtype`; frees `weight`. */
export function toStorage(weight: Tensor, dtype: DType): Tensor {
  const out = noGrad(() => cast(weight, dtype));
  weight.dispose();
  return out;
}
