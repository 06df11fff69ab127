// Log-probabilities of completions, the quantity every preference loss is built on.
import {
  abs,
  add,
  exp,
  gather,
  log,
  logSoftmax,
  minimum,
  mul,
  neg,
  sum,
  type Tensor,
  unsqueeze,
} from '@llmkit/core-tensor';
import { RlhfError } from './errors.js';

/**
 * log(sigmoid(x)), computed stably as min(x, 0) - log(1 + exp(-|x|)) (no overflow for large |x|).
 *
 * @example
 * ```ts
 * logSigmoid(tensor([0])).dataSync(); // [-0.6931]
 * ```
 */
export function logSigmoid(x: Tensor): Tensor {
  return add(minimum(x, 0), neg(log(add(exp(neg(abs(x))), 1))));
}

/**
 * Per-token log-probabilities of `labels` under `logits`: `logits` [B, T, V], `labels` [B, T]
 * int32 -> [B, T], log softmax(logits)[b, t, labels[b, t]]. Align them first: the logits at t
 * predict the token at t + 1, so pass `logits[:, :-1]` with `labels = ids[:, 1:]`.
 *
 * @example
 * ```ts
 * tokenLogProbs(logits, labels).shape; // [B, T]
 * ```
 */
export function tokenLogProbs(logits: Tensor, labels: Tensor): Tensor {
  const [B, T] = logits.shape;
  if (logits.rank !== 3 || labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== T)
    throw new RlhfError(
      'invalid_argument',
      `tokenLogProbs: logits must be [B, T, V] and labels [B, T]; got [${logits.shape}] and [${labels.shape}]`,
    );
  const logProbs = logSoftmax(logits, -1);
  return gather(logProbs, 2, unsqueeze(labels, 2)).reshape([B, T]);
}

/**
 * Sequence log-probability summed over completion tokens only: `tokenLogProbs` [B, T] times the
 * completion `mask` [B, T] (1 on completion tokens, 0 on prompt and padding), summed over T.
 * This is the log pi(y | x) of DPO (Rafailov et al. 2023, eq. 7).
 *
 * @example
 * ```ts
 * sequenceLogProbs(tokenLogProbs(logits, labels), mask).shape; // [B]
 * ```
 */
export function sequenceLogProbs(tokenLogProbsBT: Tensor, mask: Tensor): Tensor {
  if (tokenLogProbsBT.shape.join() !== mask.shape.join())
    throw new RlhfError(
      'invalid_argument',
      `sequenceLogProbs: mask shape [${mask.shape}] differs from log-probs shape [${tokenLogProbsBT.shape}]`,
    );
  return sum(mul(tokenLogProbsBT, mask.to(tokenLogProbsBT.dtype)), 1);
}
