#!/usr/bin/env node
// `pnpm bench rlhf`: the worked example of issue 17 as a benchmark. A Shakespeare-char GPT
// (nanoGPT's small CPU configuration, trained here for a few steps with `llmkit train`) is made to
// write more positive text: the reward is the positive-class probability of a tiny character-level
// sentiment classifier (EncoderForSequenceClassification) trained on /work/shared/data/sentiment
// (Amazon, IMDb and Yelp sentences), used through classifierReward. GRPO, PPO and DPO (on pairs
// built from that reward: the best and worst of 8 reference samples per prompt) each start from
// the same base model; reported per method: mean reward of fixed-seed samples before and after, the
// KL to the reference (mean over samples of sum_t log pi - log pi_ref on the policy's own samples),
// and ms per step. No peer runs: TRL (the reference implementation) is not installed here and this
// machine has no network; the comparison is before/after. Timings are noisy: other engineers load
// the same 2 cores. Options: --steps N (default 20), --quick (fewer steps and samples).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const pkg = (name) => join(root, 'packages', name, 'dist', 'index.js');
const core = await import(pkg('core-tensor'));
await import(join(root, 'packages', 'backend-cpu', 'dist', 'register.js')).catch(() => undefined);
const { GPT, EncoderForSequenceClassification, load } = await import(pkg('transformer'));
const { CharTokenizer } = await import(pkg('tokenizer'));
const rlhf = await import(pkg('rlhf'));

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const stepsArg = args.indexOf('--steps');
const STEPS = stepsArg >= 0 ? Number(args[stepsArg + 1]) : quick ? 6 : 20;
const data = '/work/shared/data';
const base = join(tmpdir(), 'llmkit-rlhf-bench', 'shakespeare-char');

// 1. the base model
if (!existsSync(join(base, 'config.json'))) {
  const cli = join(root, 'apps', 'demo', 'dist', 'cli.js');
  const trained = spawnSync(
    process.execPath,
    [
      cli,
      'train',
      '--data',
      join(data, 'tinyshakespeare.txt'),
      '--preset',
      'shakespeare-char',
      '--max-steps',
      '300',
      '--out',
      base,
      '--json',
    ],
    { encoding: 'utf8' },
  );
  if (trained.status !== 0) throw new Error(`llmkit train failed: ${trained.stderr}`);
}
const run = JSON.parse(readFileSync(join(base, 'run.json'), 'utf8'));
const tokenizer = CharTokenizer.fromJSON(run.tokenizer);
// the classifier reads a newline first: its pooled first token then is a fixed [CLS]-like slot
const classifierTokenizer = {
  encode: (text) => tokenizer.encode(`\n${text}`),
  decode: (ids) => tokenizer.decode(ids),
};
const vocab = new Set(run.tokenizer.chars);
const backend = core.getBackend().name;
const baseModel = await load(base);
const copyOf = (model, frozen = false) => {
  const copy = new GPT(model.config);
  copy.loadStateDict(model.stateDict());
  if (frozen) for (const p of copy.parameters()) p.requiresGrad = false;
  copy.eval();
  return copy;
};

// 2. the sentiment classifier (characters outside the Shakespeare vocabulary are dropped)
const sentences = ['amazon_cells_labelled.txt', 'imdb_labelled.txt', 'yelp_labelled.txt'].flatMap(
  (f) =>
    readFileSync(join(data, 'sentiment', f), 'utf8')
      .split('\n')
      .map((line) => line.split('\t'))
      .filter((parts) => parts.length === 2)
      .map(([text, label]) => ({
        text: [...text.toLowerCase()]
          .filter((c) => vocab.has(c))
          .join('')
          .slice(0, 63),
        label: Number(label),
      }))
      .filter((s) => s.text.length > 0),
);
const shuffle = new core.Generator(7);
for (let i = sentences.length - 1; i > 0; i--) {
  const j = shuffle.nextInt(0, i + 1);
  [sentences[i], sentences[j]] = [sentences[j], sentences[i]];
}
const heldOut = sentences.slice(0, 300);
const train = sentences.slice(300);
core.manualSeed(0);
const classifier = new EncoderForSequenceClassification(
  { vocabSize: tokenizer.vocabSize, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0 },
  2,
);
const pad = (rows) => {
  const T = Math.max(...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...r, ...new Array(T - r.length).fill(0)]),
    mask: rows.map((r) => [...new Array(r.length).fill(1), ...new Array(T - r.length).fill(0)]),
  };
};
const classifierSteps = quick ? 100 : 600;
const adam = new core.AdamW(classifier.parameters(), { lr: 1e-3, weightDecay: 0 });
const started = performance.now();
for (let step = 0; step < classifierSteps; step++) {
  const batch = Array.from({ length: 32 }, (_, k) => train[(step * 32 + k) % train.length]);
  const { ids, mask } = pad(batch.map((s) => classifierTokenizer.encode(s.text)));
  core.tidy(() => {
    const { loss } = classifier.forward(ids, {
      attentionMask: mask,
      labels: batch.map((s) => s.label),
    });
    classifier.zeroGrad();
    loss.backward();
    adam.step();
  });
}
const classifierMs = performance.now() - started;
classifier.eval();
let correct = 0;
for (let i = 0; i < heldOut.length; i += 50) {
  const batch = heldOut.slice(i, i + 50);
  const { ids, mask } = pad(batch.map((s) => classifierTokenizer.encode(s.text)));
  const logits = core.tidy(() =>
    core.noGrad(() => classifier.forward(ids, { attentionMask: mask }).logits.dataSync()),
  );
  batch.forEach((s, k) => {
    if ((logits[2 * k + 1] > logits[2 * k] ? 1 : 0) === s.label) correct++;
  });
}
const classifierAccuracy = correct / heldOut.length;
const reward = rlhf.classifierReward({
  model: classifier,
  tokenizer: classifierTokenizer,
  positiveLabel: 1,
});

// 3. prompts: the first 8 characters of lines of the play text
const lines = readFileSync(join(data, 'tinyshakespeare.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 12 && !l.endsWith(':'));
const prompts = Array.from({ length: 16 }, (_, i) => lines[(i * 997) % lines.length].slice(0, 8));
const MAX_NEW = 24;
const sampling = { maxNewTokens: MAX_NEW };

/** Mean reward of fixed-seed samples and the KL to the reference on them. */
async function evaluate(policy, reference) {
  const perPrompt = quick ? 2 : 4;
  let total = 0;
  let kl = 0;
  let n = 0;
  const examples = [];
  for (const [i, prompt] of prompts.entries()) {
    const rollout = await rlhf.sampleRollout(
      'bench',
      policy,
      tokenizer,
      [prompt],
      [tokenizer.encode(prompt)],
      perPrompt,
      sampling,
      123 + i,
      reward,
    );
    total += rollout.rewards.reduce((a, b) => a + b, 0);
    n += rollout.rewards.length;
    if (i < 2) examples.push(prompt + rollout.completions[0]);
    const batch = rlhf.completionBatch(rollout.rows, policy.config.blockSize);
    kl += core.tidy(() =>
      core.noGrad(() => {
        const lp = rlhf.batchTokenLogProbs(policy, batch);
        const ref = rlhf.batchTokenLogProbs(reference, batch);
        return core.sum(core.mul(core.sub(lp, ref), batch.completionMask)).item();
      }),
    );
  }
  return { reward: total / n, kl: kl / n, examples };
}

const reference = copyOf(baseModel, true);
const before = await evaluate(copyOf(baseModel), reference);
const results = [];
const timed = (history) => Math.min(...history.map((m) => m.ms)); // best step: the load is noisy
const mean = (history) => history.reduce((a, m) => a + m.ms, 0) / history.length;

{
  const policy = copyOf(baseModel);
  const { history } = await rlhf.trainGrpo({
    policy,
    reference,
    prompts,
    reward,
    tokenizer,
    sampling,
    steps: STEPS,
    batchSize: 4,
    config: { groupSize: 8, klCoefficient: 0.04 },
    optimizer: { lr: 1e-4 },
    seed: 1,
  });
  results.push({
    method: 'grpo',
    ...(await evaluate(policy, reference)),
    msBest: timed(history),
    msMean: mean(history),
  });
}
{
  const policy = copyOf(baseModel);
  const { history } = await rlhf.trainPpo({
    policy,
    reference,
    prompts,
    reward,
    tokenizer,
    sampling,
    steps: STEPS,
    batchSize: 16,
    config: { epochs: 2, minibatches: 2 },
    optimizer: { lr: 1e-4 },
    seed: 1,
  });
  results.push({
    method: 'ppo',
    ...(await evaluate(policy, reference)),
    msBest: timed(history),
    msMean: mean(history),
  });
}
{
  // preference pairs from the reward: best vs worst of 8 reference samples per prompt
  const pairs = [];
  for (const [i, prompt] of prompts.entries()) {
    const r = await rlhf.sampleRollout(
      'bench',
      reference,
      tokenizer,
      [prompt],
      [tokenizer.encode(prompt)],
      8,
      sampling,
      9000 + i,
      reward,
    );
    const order = r.rewards.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0]);
    const [best, worst] = [order[0][1], order.at(-1)[1]];
    if (r.completions[best] !== r.completions[worst])
      pairs.push({ prompt, chosen: r.completions[best], rejected: r.completions[worst] });
  }
  const policy = copyOf(baseModel);
  const { history } = await rlhf.trainDpo({
    policy,
    reference,
    pairs,
    tokenizer,
    steps: STEPS,
    batchSize: 8,
    config: { beta: 0.1 },
    optimizer: { lr: 1e-4 },
    seed: 1,
  });
  results.push({
    method: 'dpo',
    ...(await evaluate(policy, reference)),
    msBest: timed(history),
    msMean: mean(history),
    pairs: pairs.length,
    lastAccuracy: history.at(-1)['rewards/accuracies'],
  });
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `rlhf worked example: Shakespeare-char GPT (${run.model.nLayer} layers, ${run.model.nEmbd} wide, block ${run.model.blockSize}), backend ${backend}, ${cpu}, ${cpus().length} cores (shared: timings are noisy)`,
);
console.log(
  `sentiment classifier: ${classifierSteps} steps in ${(classifierMs / 1000).toFixed(1)} s, held-out accuracy ${(classifierAccuracy * 100).toFixed(1)}% on ${heldOut.length} sentences`,
);
console.log(
  `${STEPS} steps per method, ${prompts.length} prompts, ${MAX_NEW} new tokens; reward = P(positive)`,
);
console.log(
  '| method | reward before | reward after | change | KL to reference (nats/sample) | ms/step best | ms/step mean |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of results)
  console.log(
    `| ${r.method} | ${before.reward.toFixed(4)} | ${r.reward.toFixed(4)} | ${(r.reward - before.reward >= 0 ? '+' : '') + (r.reward - before.reward).toFixed(4)} (x${(r.reward / before.reward).toFixed(2)}) | ${r.kl.toFixed(3)} | ${r.msBest.toFixed(0)} | ${r.msMean.toFixed(0)} |`,
  );
console.log('samples before:', JSON.stringify(before.examples));
for (const r of results) console.log(`samples after ${r.method}:`, JSON.stringify(r.examples));
console.log(
  JSON.stringify({
    bench: 'rlhf',
    backend,
    cpu,
    steps: STEPS,
    classifierAccuracy,
    rewardBefore: before.reward,
    klBefore: before.kl,
    methods: Object.fromEntries(
      results.map((r) => [
        r.method,
        { rewardAfter: r.reward, kl: r.kl, msPerStepBest: r.msBest, msPerStepMean: r.msMean },
      ]),
    ),
  }),
);
