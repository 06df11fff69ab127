// GRPO's options (Shao et al. 2024, DeepSeekMath), validated before any work starts.
import { checkNumber, withDefaults } from '@llmkit/utils';

/** Options of GRPO. */
export interface GrpoConfig {
  /** Completions sampled per prompt; advantages are normalised within each group (8). */
  groupSize: number;
  /** Clip range of the probability ratio (0.2). */
  clipRange: number;
  /**
   * Weight of the k3 KL estimate to the reference in the loss. DeepSeekMath used 0.04; 0 drops
   * the reference model entirely (as TRL's default now does). Default 0.04.
   */
  klCoefficient: number;
  /** Added to the group's standard deviation before dividing (1e-4, as TRL). */
  epsilon: number;
}

/** The defaults of {@link GrpoConfig}. */
export const GRPO_DEFAULTS: GrpoConfig = {
  groupSize: 8,
  clipRange: 0.2,
  klCoefficient: 0.04,
  epsilon: 1e-4,
};

/**
 * Fills and checks a {@link GrpoConfig}; throws `invalid_config` naming the field.
 *
 * @example
 * ```ts
 * validateGrpoConfig({ groupSize: 4 }).klCoefficient; // 0.04
 * ```
 */
export function validateGrpoConfig(config: Partial<GrpoConfig> = {}): GrpoConfig {
  const where = 'GRPO config';
  const out = withDefaults(config, GRPO_DEFAULTS, where);
  checkNumber(where, 'groupSize', out.groupSize, { min: 2, integer: true });
  checkNumber(where, 'clipRange', out.clipRange, { min: 0, minExclusive: true });
  checkNumber(where, 'klCoefficient', out.klCoefficient, { min: 0 });
  checkNumber(where, 'epsilon', out.epsilon, { min: 0, minExclusive: true });
  return out;
}
