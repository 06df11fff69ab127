// The fused AdamW kernel of the js backend (Loshchilov and Hutter, 2019, as PyTorch implements it).
import type { KernelAttributes, KernelTensor } from '../types.js';
import { floatsOf } from './buffer.js';

/** PyTorch's AdamW step, in place on param, m and v. */
export function adamw(
  [param, grad, m, v]: readonly KernelTensor[],
  _outputs: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const p = floatsOf(param);
  const g = floatsOf(grad);
  const ms = floatsOf(m);
  const vs = floatsOf(v);
  const lr = Number(attrs.lr);
  const b1 = Number(attrs.beta1);
  const b2 = Number(attrs.beta2);
  const eps = Number(attrs.epsilon);
  const wd = Number(attrs.weightDecay);
  const step = Number(attrs.step);
  const c1 = 1 - b1 ** step;
  const c2 = 1 - b2 ** step;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = g[grad.offset + i];
    let pi = p[param.offset + i];
    pi -= lr * wd * pi;
    const mi = b1 * ms[m.offset + i] + (1 - b1) * gi;
    const vi = b2 * vs[v.offset + i] + (1 - b2) * gi * gi;
    ms[m.offset + i] = mi;
    vs[v.offset + i] = vi;
    p[param.offset + i] = pi - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
  }
}
