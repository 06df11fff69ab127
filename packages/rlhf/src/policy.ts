// Policies with adapters. A @llmkit/peft PeftModel wraps a GPT: its `forward` is the base's with
// the active adapter applied, `disableAdapters()` / `enableAdapters()` switch the adapter off and
// on (so the policy with adapters disabled is the reference, and no frozen copy is needed), but
// it has no `config` or `generate` of its own. LoRA and IA3 change the base's layers in place,
// so the base's `generate` samples from the adapted model; asCausalPolicy wraps such a model as a
// CausalPolicy with the base's sizes and sampling. Prompt tuning is not handled: its virtual
// tokens live in the PeftModel's forward, which the base's generate does not call.
import { Module } from '@llmkit/core-tensor';
import { RlhfError } from './errors.js';
import type { CausalPolicy } from './sequences.js';

/**
 * A model with adapters around a causal LM (a @llmkit/peft `PeftModel` of a GPT): trainers accept
 * it wherever they take a policy, and use it with adapters disabled as the reference.
 */
export interface AdaptedPolicy extends Module {
  /** The wrapped language model (adapted in place by LoRA or IA3). */
  readonly base: CausalPolicy;
  /** The base's forward with the active adapter applied. */
  forward: CausalPolicy['forward'];
  /** Runs the base alone until {@link AdaptedPolicy.enableAdapters}. */
  disableAdapters(): unknown;
  /** Applies the active adapter again. */
  enableAdapters(): unknown;
}

/** What the trainers take as a policy: a causal LM, or one with adapters. */
export type PolicyModel = CausalPolicy | AdaptedPolicy;

/** A {@link AdaptedPolicy} seen as a {@link CausalPolicy} (checkpoint keys `model.*`). */
class AdaptedCausalPolicy extends Module implements CausalPolicy {
  readonly config: CausalPolicy['config'];
  readonly forward: CausalPolicy['forward'];
  private readonly adapted: AdaptedPolicy;

  constructor(adapted: AdaptedPolicy) {
    super();
    this.adapted = this.addModule('model', adapted);
    this.config = adapted.base.config;
    this.forward = (inputIds, options) => adapted.forward(inputIds, options);
  }

  generate(
    inputIds: readonly (readonly number[])[],
    options: Record<string, unknown>,
  ): Promise<number[][]> {
    return this.adapted.base.generate(inputIds, options);
  }

  disableAdapters(): void {
    this.adapted.disableAdapters();
  }

  enableAdapters(): void {
    this.adapted.enableAdapters();
  }
}

/**
 * `model` as a {@link CausalPolicy}: itself when it is one (a GPT), else a model with adapters
 * over one (a PeftModel with a LoRA or IA3 adapter) seen through its base's sizes and sampling.
 *
 * @example
 * ```ts
 * const policy = asCausalPolicy(getPeftModel(gpt, { method: 'lora', r: 8, targetModules: ['c_attn'] }), 'trainDpo');
 * policy.config.blockSize; // gpt.config.blockSize
 * ```
 */
export function asCausalPolicy(model: PolicyModel, where: string): CausalPolicy {
  const m = model as unknown as Partial<CausalPolicy> & Partial<AdaptedPolicy>;
  if (m.config && typeof m.generate === 'function') return model as CausalPolicy;
  const base = m.base as Partial<CausalPolicy> | undefined;
  if (
    base?.config &&
    typeof base.generate === 'function' &&
    typeof m.disableAdapters === 'function' &&
    typeof m.enableAdapters === 'function'
  ) {
    const peft = model as unknown as AdaptedPolicy & {
      activeAdapter?: string | null;
      adapterMethod?: (name: string) => { name: string };
    };
    const active = peft.activeAdapter;
    if (active && peft.adapterMethod?.(active).name === 'prompt-tuning')
      throw new RlhfError(
        'unsupported',
        `${where}: a prompt-tuning adapter cannot sample through its base model's generate; use a LoRA or IA3 adapter`,
      );
    return new AdaptedCausalPolicy(peft);
  }
  throw new RlhfError(
    'invalid_argument',
    `${where}: the policy has no config and generate (a GPT) and no base with them (a PeftModel of a GPT)`,
  );
}
