// DPO's options, validated before any work starts.
import { checkChoice, checkNumber, withDefaults } from '@llmkit/utils';

/** The preference losses {@link dpoLoss} computes. */
export type DpoLossType = 'sigmoid' | 'ipo' | 'hinge';

/** Options of DPO and its variants. */
export interface DpoConfig {
  /**
   * Strength of the implicit KL constraint to the reference (DPO's beta). Default 0.1, the value
   * of the DPO paper's experiments and TRL's default; larger keeps the policy closer.
   */
  beta: number;
  /** `sigmoid` (DPO), `ipo` (Azar et al. 2023) or `hinge` (SLiC, Zhao et al. 2023). Default `sigmoid`. */
  lossType: DpoLossType;
  /**
   * Probability that a preference label is flipped (conservative DPO, cDPO); 0 trusts every pair.
   * Default 0.
   */
  labelSmoothing: number;
}

/** The defaults of {@link DpoConfig}. */
export const DPO_DEFAULTS: DpoConfig = { beta: 0.1, lossType: 'sigmoid', labelSmoothing: 0 };

/**
 * Fills and checks a {@link DpoConfig}; throws `invalid_config` naming the field.
 *
 * @example
 * ```ts
 * validateDpoConfig({ beta: 0.5 }); // { beta: 0.5, lossType: 'sigmoid', labelSmoothing: 0 }
 * ```
 */
export function validateDpoConfig(config: Partial<DpoConfig> = {}): DpoConfig {
  const where = 'DPO config';
  const out = withDefaults(config, DPO_DEFAULTS, where);
  checkNumber(where, 'beta', out.beta, { min: 0, minExclusive: true });
  checkChoice(where, 'lossType', out.lossType, ['sigmoid', 'ipo', 'hinge']);
  checkNumber(where, 'labelSmoothing', out.labelSmoothing, {
    min: 0,
    max: 0.5,
    maxExclusive: true,
  });
  return out;
}
