// Direct Preference Optimization losses on sequence log-probabilities (pure functions).
//
// With h = (log pi(y_w|x) - log pi(y_l|x)) - (log pi_ref(y_w|x) - log pi_ref(y_l|x)):
//   sigmoid (DPO, Rafailov et al. 2023, eq. 7): -(1 - eps) log sigma(beta h) - eps log sigma(-beta h)
//     (eps = label smoothing, the conservative DPO of Mitchell 2023; eps = 0 is plain DPO)
//   ipo (Azar et al. 2023, eq. 17):              (h - 1 / (2 beta))^2
//   hinge (SLiC-HF, Zhao et al. 2023):            max(0, 1 - beta h)
// The implicit rewards are beta (log pi - log pi_ref) of each completion (DPO section 5).
import { add, mean, mul, relu, square, sub, type Tensor } from '@llmkit/core-tensor';
import { RlhfError } from '../errors.js';
import { logSigmoid } from '../log-probs.js';
import { type DpoConfig, validateDpoConfig } from './config.js';

/** Sequence log-probabilities of a batch of preference pairs, each [B]. */
export interface PreferenceLogProbs {
  /** log pi(chosen | prompt) under the policy. */
  policyChosen: Tensor;
  /** log pi(rejected | prompt) under the policy. */
  policyRejected: Tensor;
  /** log pi_ref(chosen | prompt) under the reference (no gradient needed). */
  referenceChosen: Tensor;
  /** log pi_ref(rejected | prompt) under the reference. */
  referenceRejected: Tensor;
}

/** What {@link dpoLoss} returns: the loss to minimise and the metrics people read. */
export interface DpoLossResult {
  /** Mean loss over the batch (a scalar with gradients to the policy log-probs). */
  loss: Tensor;
  /** Per-pair losses [B]. */
  losses: Tensor;
  /** beta (policyChosen - referenceChosen) [B]: `rewards/chosen`. */
  chosenRewards: Tensor;
  /** beta (policyRejected - referenceRejected) [B]: `rewards/rejected`. */
  rejectedRewards: Tensor;
  /** Share of pairs whose chosen reward exceeds the rejected one: `rewards/accuracies`. */
  accuracy: number;
  /** Mean of chosenRewards - rejectedRewards: `rewards/margins`. */
  margin: number;
}

/**
 * The DPO loss and its IPO and hinge variants for a batch of pairs.
 *
 * @example
 * ```ts
 * const { loss, accuracy } = dpoLoss(logProbs, { beta: 0.1 });
 * backward(loss);
 * ```
 */
export function dpoLoss(
  logProbs: PreferenceLogProbs,
  config: Partial<DpoConfig> = {},
): DpoLossResult {
  const { beta, lossType, labelSmoothing } = validateDpoConfig(config);
  const { policyChosen, policyRejected, referenceChosen, referenceRejected } = logProbs;
  const shape = policyChosen.shape.join();
  for (const [name, t] of Object.entries(logProbs))
    if (t.shape.join() !== shape || t.rank !== 1)
      throw new RlhfError(
        'invalid_argument',
        `dpoLoss: ${name} has shape [${t.shape}], expected [${policyChosen.shape}] (one log-prob per pair)`,
      );
  const chosenRatio = sub(policyChosen, referenceChosen.detach());
  const rejectedRatio = sub(policyRejected, referenceRejected.detach());
  const h = sub(chosenRatio, rejectedRatio);
  let losses: Tensor;
  if (lossType === 'sigmoid') {
    const scaled = mul(h, beta);
    losses = sub(
      mul(logSigmoid(scaled), -(1 - labelSmoothing)),
      mul(logSigmoid(mul(scaled, -1)), labelSmoothing),
    );
  } else if (lossType === 'ipo') losses = square(sub(h, 1 / (2 * beta)));
  else losses = relu(add(mul(h, -beta), 1));
  const chosenRewards = mul(chosenRatio, beta).detach();
  const rejectedRewards = mul(rejectedRatio, beta).detach();
  const c = chosenRewards.dataSync() as Float32Array;
  const r = rejectedRewards.dataSync() as Float32Array;
  let wins = 0;
  let margin = 0;
  for (let i = 0; i < c.length; i++) {
    if (c[i] > r[i]) wins++;
    margin += c[i] - r[i];
  }
  return {
    loss: mean(losses),
    losses,
    chosenRewards,
    rejectedRewards,
    accuracy: wins / c.length,
    margin: margin / c.length,
  };
}
