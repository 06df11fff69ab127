// The losses against PyTorch (float64, fixtures from scripts/make-fixtures.py, written from the
// papers' formulas) and against finite differences.
import { backward, gradcheck, type Tensor, tensor } from '@llmkit/core-tensor';
import { describe, expect, it } from 'vitest';
import { dpoLoss } from './dpo/loss.js';
import fixtures from './fixtures/losses.json' with { type: 'json' };
import { groupAdvantages, grpoLoss, k3Kl } from './grpo/loss.js';
import { logSigmoid } from './log-probs.js';
import {
  generalizedAdvantages,
  klPenalizedRewards,
  ppoPolicyLoss,
  ppoValueLoss,
} from './ppo/loss.js';
import { bradleyTerryLoss, combineRewards } from './reward/loss.js';

const f64 = (values: number[] | number[][], requiresGrad = false) =>
  tensor(values, { dtype: 'float64', requiresGrad });
const values = (t: Tensor) => Array.from(t.dataSync() as Float64Array);
const close = (actual: number[], expected: number[] | number[][], digits = 9) => {
  const flat = (expected as number[]).flat();
  expect(actual.length).toBe(flat.length);
  for (const [i, a] of actual.entries()) expect(a).toBeCloseTo(flat[i], digits);
};

describe('DPO, IPO, hinge', () => {
  const { dpo } = fixtures;
  it.each(dpo.cases.map((c) => [`${c.lossType} beta ${c.beta} smoothing ${c.labelSmoothing}`, c]))(
    '%s: loss, gradients and metrics equal PyTorch',
    (_, c) => {
      const cs = c as (typeof dpo.cases)[number];
      const policyChosen = f64(dpo.policyChosen, true);
      const policyRejected = f64(dpo.policyRejected, true);
      const result = dpoLoss(
        {
          policyChosen,
          policyRejected,
          referenceChosen: f64(dpo.referenceChosen),
          referenceRejected: f64(dpo.referenceRejected),
        },
        { beta: cs.beta, lossType: cs.lossType as 'sigmoid', labelSmoothing: cs.labelSmoothing },
      );
      close(values(result.loss), [cs.loss]);
      backward(result.loss);
      close(values(policyChosen.grad!), cs.gradChosen);
      close(values(policyRejected.grad!), cs.gradRejected);
      expect(result.accuracy).toBeCloseTo(cs.accuracy, 12);
      expect(result.margin).toBeCloseTo(cs.margin, 9);
    },
  );

  it('passes float64 gradient checks for every variant', () => {
    for (const lossType of ['sigmoid', 'ipo', 'hinge'] as const) {
      const check = gradcheck(
        (pc, pr, rc, rr) =>
          dpoLoss(
            { policyChosen: pc, policyRejected: pr, referenceChosen: rc, referenceRejected: rr },
            { beta: 0.3, lossType, labelSmoothing: lossType === 'sigmoid' ? 0.1 : 0 },
          ).loss,
        [
          f64(fixtures.dpo.policyChosen),
          f64(fixtures.dpo.policyRejected),
          f64(fixtures.dpo.referenceChosen),
          f64(fixtures.dpo.referenceRejected),
        ],
        { check: [0, 1] },
      );
      expect(check.ok, `${lossType}: ${JSON.stringify(check.firstMismatch)}`).toBe(true);
    }
  });

  it('rejects a bad beta and mismatched shapes with clear errors', () => {
    const x = f64([1, 2]);
    const lp = { policyChosen: x, policyRejected: x, referenceChosen: x, referenceRejected: x };
    expect(() => dpoLoss(lp, { beta: 0 })).toThrow(
      'DPO config: beta must be a finite number > 0, got 0',
    );
    expect(() => dpoLoss(lp, { lossType: 'kto' as 'ipo' })).toThrow(
      /lossType must be one of 'sigmoid', 'ipo', 'hinge'/,
    );
    expect(() => dpoLoss({ ...lp, referenceRejected: f64([1, 2, 3]) })).toThrow(
      /referenceRejected has shape \[3\], expected \[2\]/,
    );
  });
});

describe('reward models', () => {
  it('Bradley-Terry loss with a margin equals PyTorch and passes gradcheck', () => {
    const { bradleyTerry: bt } = fixtures;
    const chosen = f64(bt.chosen, true);
    const rejected = f64(bt.rejected, true);
    const loss = bradleyTerryLoss(chosen, rejected, f64(bt.margin));
    close(values(loss), [bt.loss]);
    backward(loss);
    close(values(chosen.grad!), bt.gradChosen);
    close(values(rejected.grad!), bt.gradRejected);
    expect(
      gradcheck((c, r) => bradleyTerryLoss(c, r, 0.5), [f64(bt.chosen), f64(bt.rejected)]).ok,
    ).toBe(true);
  });

  it('logSigmoid stays finite far from zero', () => {
    close(values(logSigmoid(f64([-800, 0, 800]))), [-800, -Math.log(2), 0]);
  });

  it('combineRewards weights the parts and refuses a NaN, naming the part', async () => {
    const reward = combineRewards([
      { reward: (_, c) => c.length, weight: 0.5, name: 'length' },
      { reward: () => 2, weight: 1, name: 'human' },
    ]);
    expect(await reward('p', 'abcd')).toBe(4);
    const broken = combineRewards([{ reward: () => Number.NaN, weight: 1, name: 'classifier' }]);
    await expect(broken('p', 'text')).rejects.toThrow(
      'reward classifier returned NaN for completion "text"; expected a finite number',
    );
  });
});

describe('PPO', () => {
  const { gae, ppo } = fixtures;
  it.each(gae.cases.map((c) => [c.gamma, c.lambda, c]))(
    'GAE gamma %d lambda %d equals PyTorch',
    (_, __, c) => {
      const cs = c as (typeof gae.cases)[number];
      const { advantages, returns } = generalizedAdvantages(
        gae.rewards,
        gae.values,
        cs.gamma,
        cs.lambda,
      );
      close(advantages, cs.advantages, 12);
      close(returns, cs.returns, 12);
    },
  );

  it('clipped policy and value losses equal PyTorch, gradients included', () => {
    const logProbs = f64(ppo.logProbs, true);
    const mask = f64(ppo.mask);
    const policy = ppoPolicyLoss(
      logProbs,
      f64(ppo.oldLogProbs),
      f64(ppo.advantages),
      ppo.clipRange,
      mask,
    );
    close(values(policy), [ppo.policyLoss]);
    backward(policy);
    close(values(logProbs.grad!), ppo.gradLogProbs);
    const v = f64(ppo.values, true);
    const value = ppoValueLoss(v, f64(ppo.oldValues), f64(ppo.returns), ppo.clipRangeValue, mask);
    close(values(value), [ppo.valueLoss]);
    backward(value);
    close(values(v.grad!), ppo.gradValues);
  });

  it('KL-penalised rewards put the score on the last token and refuse NaN', () => {
    const rewards = klPenalizedRewards(2, [-1, -2], [-1.5, -1.5], 0.2);
    expect(rewards[0]).toBeCloseTo(-0.1, 12);
    expect(rewards[1]).toBeCloseTo(2.1, 12);
    expect(() => klPenalizedRewards(Number.NaN, [-1], [-1], 0.2)).toThrow(/the reward is NaN/);
  });
});

describe('GRPO', () => {
  const { grpo } = fixtures;
  it('group advantages, k3 KL and the loss equal PyTorch', () => {
    close(groupAdvantages(grpo.rewards, grpo.groupSize), grpo.advantages, 9);
    const logProbs = f64(grpo.logProbs, true);
    const { loss, kl } = grpoLoss(
      {
        logProbs,
        oldLogProbs: f64(grpo.oldLogProbs),
        referenceLogProbs: f64(grpo.referenceLogProbs),
        advantages: f64(grpo.advantages),
        mask: f64(grpo.mask),
      },
      { clipRange: grpo.clipRange, klCoefficient: grpo.klCoefficient },
    );
    close(values(loss), [grpo.loss]);
    close(values(kl!), [grpo.kl]);
    backward(loss);
    close(values(logProbs.grad!), grpo.gradLogProbs);
  });

  it('k3 is never negative and zero at the reference; the loss passes gradcheck', () => {
    const a = f64([[-1, -2, -0.5]]);
    close(values(k3Kl(a, a)), [0, 0, 0]);
    for (const v of values(k3Kl(f64([[-1, -2, -0.5]]), f64([[-3, 0.5, -0.6]]))))
      expect(v).toBeGreaterThanOrEqual(0);
    const check = gradcheck(
      (lp) =>
        grpoLoss(
          {
            logProbs: lp,
            oldLogProbs: f64(grpo.oldLogProbs),
            referenceLogProbs: f64(grpo.referenceLogProbs),
            advantages: f64(grpo.advantages),
            mask: f64(grpo.mask),
          },
          { clipRange: 0.2, klCoefficient: 0.04 },
        ).loss,
      [f64(grpo.logProbs)],
    );
    expect(check.ok, JSON.stringify(check.firstMismatch)).toBe(true);
  });

  it('refuses rewards that do not split into groups, or a NaN reward', () => {
    expect(() => groupAdvantages([1, 2, 3], 2)).toThrow(
      'groupAdvantages: 3 rewards do not split into groups of 2',
    );
    expect(() => groupAdvantages([1, Number.NaN], 2)).toThrow(/reward 1 is NaN/);
  });
});
