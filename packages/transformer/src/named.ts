// A module that only groups named children, so parameter paths can follow a checkpoint's nesting
// (BERT's `attention.output.LayerNorm`) without a class per level.
import { Module } from '@llmkit/core-tensor';

/**
 * Registers each entry of `children` under its key and exposes it as a property.
 *
 * @example
 * ```ts
 * const output = named({ dense: new Linear(8, 8), LayerNorm: new LayerNorm(8) });
 * output.dense.forward(x); // parameters: dense.weight, dense.bias, LayerNorm.weight, LayerNorm.bias
 * ```
 */
export function named<T extends Record<string, Module>>(children: T): Module & T {
  const group = new Module();
  for (const [name, child] of Object.entries(children)) group.addModule(name, child);
  return Object.assign(group, children);
}
