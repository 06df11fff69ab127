// The kernel table of the webgpu backend: kernel name -> launcher.
import type { KernelAttributes, KernelTensor } from '@llmkit/core-tensor';
import type { Runtime } from '../runtime.js';
import { binary, cast, copy, fill, unary, where } from './elementwise.js';

/** A kernel launcher: encodes the launch(es) of one kernel call. */
export type KernelLauncher = (
  runtime: Runtime,
  inputs: readonly KernelTensor[],
  outputs: readonly KernelTensor[],
  attributes: KernelAttributes,
) => void;

export const KERNELS: Record<string, KernelLauncher> = {
  fill: (rt, _inputs, [out], attrs) => fill(rt, out, Number(attrs.value)),
  copy: (rt, [x], [out]) => copy(rt, x, out),
  cast: (rt, [x], [out]) => cast(rt, x, out),
  unary: (rt, [x], [out], attrs) => unary(rt, x, out, attrs),
  binary: (rt, [a, b], [out], attrs) => binary(rt, a, b, out, attrs),
  where: (rt, [c, a, b], [out]) => where(rt, c, a, b, out),
};
