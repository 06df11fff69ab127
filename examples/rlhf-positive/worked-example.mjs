// The worked example of @llmkit/rlhf (issue 17): make a Shakespeare-char GPT's samples more
// positive by a sentiment reward, with PPO, with GRPO, and with DPO on preference pairs built
// from the same reward (pairs of reference samples, chosen = higher reward). Each method starts
// from the same pretrained model and is measured the same way: the mean reward of fixed-seed
// samples before and after, and the KL to the reference on the trained policy's own samples
// (mean over samples of sum_t log pi(y_t) - log pi_ref(y_t), in nats per sample).
// main.mjs prints it; packages/rlhf/bench/run.mjs reports it as `pnpm bench rlhf`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mul, noGrad, sub, sum, tidy } from '@llmkit/core-tensor';
import {
  batchTokenLogProbs,
  completionBatch,
  sampleRollout,
  trainDpo,
  trainGrpo,
  trainPpo,
} from '@llmkit/rlhf';
import { CharTokenizer } from '@llmkit/tokenizer';
import { GPT, load } from '@llmkit/transformer';

/** The repository root (the example lives in examples/rlhf-positive). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * Where `pnpm llmkit train --data ../shared/data/tinyshakespeare.txt --preset shakespeare-char`
 * writes its model (`runs/shakespeare-char`, 2,000 steps), used when present.
 */
export const SHARED_MODEL = join(ROOT, 'runs', 'shakespeare-char');

/** What every method samples: completions of 32 characters at temperature 1. */
export const SAMPLING = { maxNewTokens: 32 };

/** Each method's settings, tuned so a run takes a few minutes on 2 CPU cores. */
export const METHODS = {
  // InstructGPT-style: one sample per prompt, the KL penalty in the per-token reward
  ppo: {
    steps: 30,
    batchSize: 32,
    config: { initKlCoefficient: 0.1, adaptiveKl: true, targetKl: 6, epochs: 2, minibatches: 2 },
    optimizer: { lr: 2e-4 },
  },
  // 4 prompts x 8 samples per step, the k3 KL in the loss
  grpo: {
    steps: 40,
    batchSize: 4,
    config: { groupSize: 8, klCoefficient: 0.1 },
    optimizer: { lr: 1e-4 },
  },
  // 4 pairs per prompt (best and worst of 8 reference samples), two passes over the 128 pairs:
  // many more passes overfit the pairs and drift far from the reference (KL > 40 nats at 15)
  dpo: {
    pairsPerPrompt: 4,
    samplesPerPair: 8,
    steps: 16,
    batchSize: 16,
    config: { beta: 0.1 },
    optimizer: { lr: 1e-4 },
  },
};

/**
 * The pretrained Shakespeare-char GPT and its character tokenizer: `modelDir` when it holds a
 * model, else the shared run (`sharedModel`), else one trained now with the demo CLI
 * (`trainSteps` steps, default 2,000, cached under `cacheRoot` in os.tmpdir(); about 1.5 minutes
 * on 2 cores).
 */
export async function baseModel({
  modelDir,
  dataDir,
  sharedModel = SHARED_MODEL,
  trainSteps = 2000,
  cacheRoot = join(tmpdir(), 'llmkit-rlhf-positive'),
  log = () => {},
}) {
  let dir = [modelDir, sharedModel].find((d) => d && existsSync(join(d, 'config.json')));
  if (!dir) {
    dir = join(cacheRoot, `shakespeare-char-${trainSteps}`);
    if (!existsSync(join(dir, 'config.json'))) {
      const cli = join(ROOT, 'apps', 'demo', 'dist', 'cli.js');
      if (!existsSync(cli))
        throw new Error(`no pretrained model and no demo CLI at ${cli}: run \`pnpm build\` first`);
      log(`no pretrained model: training one with the demo CLI into ${dir} (${trainSteps} steps)`);
      // its progress goes to stderr, so the example's stdout stays the report
      const run = spawnSync(
        process.execPath,
        [
          cli,
          'train',
          '--data',
          join(dataDir, 'tinyshakespeare.txt'),
          '--preset',
          'shakespeare-char',
          '--max-steps',
          String(trainSteps),
          '--out',
          dir,
        ],
        { stdio: ['ignore', 2, 2] },
      );
      if (run.status !== 0) throw new Error(`llmkit train exited with ${run.status}`);
    }
  }
  const model = await load(dir);
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  return { model, tokenizer: CharTokenizer.fromJSON(run.tokenizer), dir };
}

/** A copy of `model` (same weights), frozen when asked, in eval mode. */
export function copyOf(model, frozen = false) {
  const copy = new GPT(model.config);
  copy.loadStateDict(model.stateDict());
  if (frozen) for (const p of copy.parameters()) p.requiresGrad = false;
  return copy.eval();
}

/**
 * Prompts: the first two words of lines of the play (speaker lines such as `ROMEO:` skipped),
 * `count` of them spread over the text.
 */
export function shakespearePrompts(dataDir, count = 32) {
  const lines = readFileSync(join(dataDir, 'tinyshakespeare.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.split(' ').length > 4 && !line.endsWith(':'));
  return Array.from({ length: count }, (_, i) => {
    const words = lines[Math.floor(((i + 0.5) * lines.length) / count)].split(' ');
    return `${words.slice(0, 2).join(' ')} `;
  });
}

/**
 * Mean reward of `perPrompt` fixed-seed samples of each prompt, the KL to `reference` on them
 * (nats per sample) and a few samples.
 */
export async function evaluate(
  policy,
  reference,
  { prompts, tokenizer, reward, perPrompt = 4, seed = 123 },
) {
  let total = 0;
  let kl = 0;
  let n = 0;
  const samples = [];
  for (const [i, prompt] of prompts.entries()) {
    const rollout = await sampleRollout(
      'evaluate',
      policy,
      tokenizer,
      [prompt],
      [tokenizer.encode(prompt)],
      perPrompt,
      SAMPLING,
      seed + i,
      reward,
    );
    total += rollout.rewards.reduce((a, b) => a + b, 0);
    n += rollout.rewards.length;
    if (samples.length < 6)
      samples.push({ text: prompt + rollout.completions[0], reward: rollout.rewards[0] });
    const batch = completionBatch(rollout.rows, policy.config.blockSize);
    kl += tidy(() =>
      noGrad(() => {
        const lp = batchTokenLogProbs(policy, batch);
        const ref = batchTokenLogProbs(reference, batch);
        return sum(mul(sub(lp, ref), batch.completionMask)).item();
      }),
    );
    batch.labels.dispose();
    batch.completionMask.dispose();
  }
  return { reward: total / n, kl: kl / n, samples };
}

/** Preference pairs from the reward: for each prompt, the best and worst of `samplesPerPair` reference samples. */
export async function rewardPairs(
  reference,
  { prompts, tokenizer, reward, pairsPerPrompt, samplesPerPair, seed = 9000 },
) {
  const pairs = [];
  for (const [i, prompt] of prompts.entries())
    for (let k = 0; k < pairsPerPrompt; k++) {
      const r = await sampleRollout(
        'pairs',
        reference,
        tokenizer,
        [prompt],
        [tokenizer.encode(prompt)],
        samplesPerPair,
        SAMPLING,
        seed + 101 * i + k,
        reward,
      );
      const order = r.rewards.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]);
      const best = order[0][1];
      const worst = order.at(-1)[1];
      if (r.completions[best] !== r.completions[worst] && r.rewards[best] > r.rewards[worst])
        pairs.push({ prompt, chosen: r.completions[best], rejected: r.completions[worst] });
    }
  return pairs;
}

/**
 * Trains one method from `base`; returns the policy, the trainer's history and, for DPO, the
 * pairs. `onStep` sees each step's metrics.
 */
export async function runMethod(
  method,
  base,
  { reference, prompts, tokenizer, reward, onStep, settings = METHODS[method], seed = 1 },
) {
  const policy = copyOf(base);
  const common = {
    policy,
    reference,
    tokenizer,
    steps: settings.steps,
    batchSize: settings.batchSize,
    config: settings.config,
    optimizer: settings.optimizer,
    seed,
    onStep,
  };
  if (method === 'ppo') {
    const { history } = await trainPpo({ ...common, prompts, reward, sampling: SAMPLING });
    return { policy, history };
  }
  if (method === 'grpo') {
    const { history } = await trainGrpo({ ...common, prompts, reward, sampling: SAMPLING });
    return { policy, history };
  }
  if (method === 'dpo') {
    const started = performance.now();
    const pairs = await rewardPairs(reference, { prompts, tokenizer, reward, ...settings });
    const pairSeconds = (performance.now() - started) / 1000;
    const { history } = await trainDpo({ ...common, pairs });
    return { policy, history, pairs, pairSeconds };
  }
  throw new Error(`unknown method ${JSON.stringify(method)}; expected ppo, grpo or dpo`);
}

/** The default data folder: the repository's sibling `shared/data` (tinyshakespeare.txt, sentiment/). */
export const DATA_DIR = join(ROOT, '..', 'shared', 'data');

/**
 * Throws, naming every missing file and where the data sets come from, unless `dataDir` holds
 * tinyshakespeare.txt and the three files of sentiment/ (checked before any work starts).
 */
export function checkDataDir(dataDir, files) {
  const wanted = ['tinyshakespeare.txt', ...files.map((f) => join('sentiment', f))];
  const missing = wanted.filter((f) => !existsSync(join(dataDir, f)));
  if (missing.length > 0)
    throw new Error(
      `the worked example's data is missing from ${dataDir}: ${missing.join(', ')}. ` +
        "Pass --data DIR with Tiny Shakespeare (tinyshakespeare.txt, Karpathy's char-rnn data) and " +
        'sentiment/ holding the three files of UCI\'s "Sentiment Labelled Sentences" (Kotzias et al. 2015).',
    );
}

/**
 * The whole worked example: the sentiment reward, the base model, the reward and samples before,
 * then each method trained from the base (with `settings[method]`, default {@link METHODS}) and
 * evaluated. `log` gets progress lines.
 */
export async function runWorkedExample({
  methods = ['ppo', 'grpo', 'dpo'],
  settings = METHODS,
  dataDir = DATA_DIR,
  modelDir,
  log = () => {},
} = {}) {
  const { FILES, sentimentReward } = await import('./sentiment.mjs');
  checkDataDir(dataDir, FILES);
  const sentiment = await sentimentReward({ dataDir, log });
  log(
    `sentiment classifier: held-out accuracy ${(sentiment.accuracy * 100).toFixed(1)}% on ${sentiment.heldOut} sentences${sentiment.cached ? ` (cached: ${sentiment.dir})` : ''}`,
  );
  const { model, tokenizer, dir } = await baseModel({ modelDir, dataDir, log });
  const reference = copyOf(model, true);
  const prompts = shakespearePrompts(dataDir);
  const context = { prompts, tokenizer, reward: sentiment.reward };
  const before = await evaluate(copyOf(model), reference, context);
  log(`before: mean reward ${before.reward.toFixed(4)}`);
  const results = [];
  for (const method of methods) {
    const started = performance.now();
    const run = await runMethod(method, model, {
      ...context,
      reference,
      settings: settings[method],
      onStep: (m) => {
        if (m.step % 10 === 0)
          log(
            `  ${method} step ${m.step}: loss ${m.loss.toFixed(4)}${m.reward === undefined ? '' : `, reward ${m.reward.toFixed(3)}`}`,
          );
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const after = await evaluate(run.policy, reference, context);
    const ms = run.history.map((m) => m.ms);
    results.push({
      method,
      rewardBefore: before.reward,
      rewardAfter: after.reward,
      kl: after.kl,
      steps: run.history.length,
      msPerStep: ms.reduce((a, b) => a + b, 0) / ms.length,
      msPerStepBest: Math.min(...ms),
      seconds,
      samples: after.samples,
      ...(run.pairs ? { pairs: run.pairs.length, pairSeconds: run.pairSeconds } : {}),
    });
    log(
      `${method}: mean reward ${before.reward.toFixed(4)} -> ${after.reward.toFixed(4)}, KL ${after.kl.toFixed(2)} nats/sample, ${seconds.toFixed(0)} s`,
    );
  }
  return { sentiment, modelDir: dir, model: model.config, prompts, before, results };
}
