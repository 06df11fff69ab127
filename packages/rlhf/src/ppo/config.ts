// PPO's options (InstructGPT-style RLHF), validated before any work starts. Defaults follow
// Ziegler et al. 2019 and TRL's PPO: adaptive KL from 0.2 towards a target of 6 nats over a
// horizon of 10,000, GAE with gamma 1 and lambda 0.95, clipping 0.2 for policy and value.
import { checkBoolean, checkNumber, withDefaults } from '@llmkit/utils';

/** Options of {@link PpoConfig}. */
export interface PpoConfig {
  /** Initial KL coefficient (Ziegler et al. 2019: 0.2). */
  initKlCoefficient: number;
  /** Adapt the KL coefficient towards `targetKl` (true) or keep it fixed (false). */
  adaptiveKl: boolean;
  /** KL (nats per sequence) the adaptive controller aims for (Ziegler et al.: 6). */
  targetKl: number;
  /** Horizon of the adaptive controller, in samples (Ziegler et al.: 10,000). */
  klHorizon: number;
  /** Discount of GAE; 1 for episodic text generation. */
  gamma: number;
  /** GAE's lambda (0.95): trades bias for variance in the advantages. */
  lambda: number;
  /** Clip range of the probability ratio (0.2, Schulman et al. 2017). */
  clipRange: number;
  /** Clip range of the value function around the old values (0.2). */
  clipRangeValue: number;
  /** Weight of the value loss in the combined loss (0.1, as TRL). */
  valueCoefficient: number;
  /** Optimisation epochs over each rollout (4). */
  epochs: number;
  /** Minibatches per epoch (1: the whole rollout). */
  minibatches: number;
  /** Normalise advantages over the batch (whiten) before the update (true). */
  whitenAdvantages: boolean;
}

/** The defaults of {@link PpoConfig}. */
export const PPO_DEFAULTS: PpoConfig = {
  initKlCoefficient: 0.2,
  adaptiveKl: true,
  targetKl: 6,
  klHorizon: 10_000,
  gamma: 1,
  lambda: 0.95,
  clipRange: 0.2,
  clipRangeValue: 0.2,
  valueCoefficient: 0.1,
  epochs: 4,
  minibatches: 1,
  whitenAdvantages: true,
};

/**
 * Fills and checks a {@link PpoConfig}; throws `invalid_config` naming the field.
 *
 * @example
 * ```ts
 * validatePpoConfig({ clipRange: 0.1 }).lambda; // 0.95
 * ```
 */
export function validatePpoConfig(config: Partial<PpoConfig> = {}): PpoConfig {
  const where = 'PPO config';
  const out = withDefaults(config, PPO_DEFAULTS, where);
  checkNumber(where, 'initKlCoefficient', out.initKlCoefficient, { min: 0 });
  checkBoolean(where, 'adaptiveKl', out.adaptiveKl);
  checkNumber(where, 'targetKl', out.targetKl, { min: 0, minExclusive: true });
  checkNumber(where, 'klHorizon', out.klHorizon, { min: 0, minExclusive: true });
  checkNumber(where, 'gamma', out.gamma, { min: 0, max: 1 });
  checkNumber(where, 'lambda', out.lambda, { min: 0, max: 1 });
  checkNumber(where, 'clipRange', out.clipRange, { min: 0, minExclusive: true });
  checkNumber(where, 'clipRangeValue', out.clipRangeValue, { min: 0, minExclusive: true });
  checkNumber(where, 'valueCoefficient', out.valueCoefficient, { min: 0 });
  checkNumber(where, 'epochs', out.epochs, { min: 1, integer: true });
  checkNumber(where, 'minibatches', out.minibatches, { min: 1, integer: true });
  checkBoolean(where, 'whitenAdvantages', out.whitenAdvantages);
  return out;
}
