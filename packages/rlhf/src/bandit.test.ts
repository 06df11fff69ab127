// PPO and GRPO on a toy bandit: the "completion" is one token (an arm), the reward of arm k is
// MEANS[k] plus noise, arm 3 is best. Both methods must converge to it; with a large KL
// coefficient the policy must stay near the reference (uniform) distribution.
import {
  AdamW,
  backward,
  fromValues,
  logSoftmax,
  noGrad,
  type Tensor,
  tensor,
  tidy,
} from '@llmkit/core-tensor';
import { describe, expect, it } from 'vitest';
import { groupAdvantages, grpoLoss } from './grpo/loss.js';
import {
  AdaptiveKlController,
  generalizedAdvantages,
  klPenalizedRewards,
  ppoPolicyLoss,
  ppoValueLoss,
} from './ppo/loss.js';

const MEANS = [0.1, 0.3, 0.2, 1.0, 0.4];
const K = MEANS.length;
const BEST = 3;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function probabilities(logits: Tensor): number[] {
  return noGrad(() => Array.from(logSoftmax(logits, 0).exp().dataSync() as Float32Array));
}

function sampleArms(p: number[], n: number, random: () => number): number[] {
  return Array.from({ length: n }, () => {
    let u = random();
    for (let k = 0; k < K; k++) {
      u -= p[k];
      if (u <= 0) return k;
    }
    return K - 1;
  });
}

const reward = (arm: number, random: () => number) => MEANS[arm] + (random() - 0.5) * 0.2;

/** log pi(arm) for each sampled arm, [N], with gradient to the logits. */
function armLogProbs(logits: Tensor, arms: number[]): Tensor {
  const logp = logSoftmax(logits, 0);
  return logp.gather(0, fromValues(arms, [arms.length], { dtype: 'int32' }));
}

function runPpo(
  initKl: number,
  adaptive: boolean,
  iterations: number,
): { p: number[]; kl: number } {
  const random = rng(1);
  const logits = tensor(new Array(K).fill(0), { requiresGrad: true });
  const value = tensor([0], { requiresGrad: true });
  const reference = new Array(K).fill(Math.log(1 / K));
  const optimizer = new AdamW([logits, value], { lr: 0.05, weightDecay: 0 });
  const controller = new AdaptiveKlController(initKl, 0.05, 1000);
  let kl = 0;
  for (let it = 0; it < iterations; it++) {
    const p = probabilities(logits);
    const arms = sampleArms(p, 32, random);
    const old = arms.map((a) => Math.log(p[a]));
    const v0 = (value.dataSync() as Float32Array)[0];
    const rewards = arms.map(
      (a, i) =>
        klPenalizedRewards(reward(a, random), [old[i]], [reference[a]], controller.value)[0],
    );
    const advantages: number[] = [];
    const returns: number[] = [];
    for (const r of rewards) {
      const g = generalizedAdvantages([r], [v0], 1, 0.95);
      advantages.push(g.advantages[0]);
      returns.push(g.returns[0]);
    }
    const mean = advantages.reduce((a, b) => a + b) / advantages.length;
    const std =
      Math.sqrt(advantages.reduce((a, b) => a + (b - mean) ** 2, 0) / advantages.length) + 1e-8;
    const whitened = advantages.map((a) => (a - mean) / std);
    for (let epoch = 0; epoch < 4; epoch++) {
      tidy(() => {
        optimizer.zeroGrad();
        const logp = armLogProbs(logits, arms);
        const policy = ppoPolicyLoss(logp, tensor(old), tensor(whitened), 0.2);
        const values = value.expand([arms.length]);
        const valueLoss = ppoValueLoss(
          values,
          tensor(new Array(arms.length).fill(v0)),
          tensor(returns),
          0.2,
        );
        backward(policy.add(valueLoss.mul(0.1)));
        optimizer.step();
      });
    }
    kl = arms.reduce((s, a, i) => s + old[i] - reference[a], 0) / arms.length;
    if (adaptive) controller.update(kl, arms.length);
  }
  return { p: probabilities(logits), kl };
}

function runGrpo(klCoefficient: number, iterations: number): number[] {
  const random = rng(2);
  const logits = tensor(new Array(K).fill(0), { requiresGrad: true });
  const reference = new Array(K).fill(Math.log(1 / K));
  const optimizer = new AdamW([logits], { lr: 0.05, weightDecay: 0 });
  const G = 8;
  const prompts = 4;
  for (let it = 0; it < iterations; it++) {
    const p = probabilities(logits);
    const arms = sampleArms(p, G * prompts, random);
    const advantages = groupAdvantages(
      arms.map((a) => reward(a, random)),
      G,
    );
    const old = arms.map((a) => [Math.log(p[a])]);
    for (let epoch = 0; epoch < 2; epoch++) {
      tidy(() => {
        optimizer.zeroGrad();
        const logp = armLogProbs(logits, arms).reshape([arms.length, 1]);
        const { loss } = grpoLoss(
          {
            logProbs: logp,
            oldLogProbs: tensor(old),
            referenceLogProbs: tensor(arms.map((a) => [reference[a]])),
            advantages: tensor(advantages),
            mask: tensor(arms.map(() => [1])),
          },
          { clipRange: 0.2, klCoefficient },
        );
        backward(loss);
        optimizer.step();
      });
    }
  }
  return probabilities(logits);
}

describe('toy bandit', () => {
  it('PPO with a small KL penalty converges to the best arm', () => {
    const { p } = runPpo(0.01, false, 120);
    expect(p.indexOf(Math.max(...p))).toBe(BEST);
    expect(p[BEST]).toBeGreaterThan(0.8);
  });

  it('PPO with a large KL coefficient stays near the reference', () => {
    const { p } = runPpo(20, false, 120);
    for (const q of p) expect(Math.abs(q - 1 / K)).toBeLessThan(0.08);
  });

  it('the adaptive controller raises the coefficient when KL overshoots its target', () => {
    const controller = new AdaptiveKlController(0.2, 6, 10_000);
    expect(controller.update(12, 256)).toBeCloseTo(0.2 * (1 + (0.2 * 256) / 10_000), 12);
    expect(controller.update(0, 256)).toBeLessThan(0.2 * (1 + (0.2 * 256) / 10_000));
  });

  it('GRPO converges to the best arm without a value head', () => {
    const p = runGrpo(0, 120);
    expect(p.indexOf(Math.max(...p))).toBe(BEST);
    expect(p[BEST]).toBeGreaterThan(0.8);
  });

  it('GRPO with a large KL coefficient stays near the reference', () => {
    const p = runGrpo(50, 120);
    for (const q of p) expect(Math.abs(q - 1 / K)).toBeLessThan(0.08);
  });
});
