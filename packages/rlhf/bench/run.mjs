#!/usr/bin/env node
// `pnpm bench rlhf`: the worked example of issue 17 (examples/rlhf-positive) as a benchmark. A
// Shakespeare-char GPT (--model DIR, else runs/shakespeare-char as `llmkit train --preset
// shakespeare-char` writes it, else one trained by the demo CLI) is made to write more positive text with PPO, GRPO and DPO (pairs of
// reference samples ranked by the reward); the reward is the positive-class probability of a
// sentiment MeanPooledClassifier over GPT-2 tokens (trained once on the sentiment sentences of ../shared/data, cached
// under os.tmpdir()). Reported per method: the mean reward of 128 fixed-seed samples before and
// after (the rise), the KL to the reference on the trained policy's samples (nats per sample),
// and ms per step (mean and best: the machine is shared). Then a Bradley-Terry reward model
// (trainRewardModel, a scalar-headed MeanPooledClassifier) trained on sentiment pairs (positive
// sentence chosen over negative) and its held-out pair accuracy.
// No peer runs: TRL (the reference implementation) is not installed here and this machine has no
// network; the comparison is before / after. Options: --methods ppo,grpo,dpo, --model DIR, --quick (a few
// steps per method: checks that the bench runs, not what it measures).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
await import(join(root, 'packages', 'backend-cpu', 'dist', 'register.js'));
const core = await import(join(root, 'packages', 'core-tensor', 'dist', 'index.js'));
const example = join(root, 'examples', 'rlhf-positive');
const { checkDataDir, DATA_DIR, METHODS, runWorkedExample } = await import(
  join(example, 'worked-example.mjs')
);
const { FILES, sentimentRewardModel } = await import(join(example, 'sentiment.mjs'));
try {
  checkDataDir(DATA_DIR, FILES);
} catch (error) {
  console.log(`skipped: ${error.message}`);
  process.exit(0);
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const methodsArg = args.indexOf('--methods');
const methods = methodsArg >= 0 ? args[methodsArg + 1].split(',') : ['ppo', 'grpo', 'dpo'];
const modelArg = args.indexOf('--model');
const modelDir = modelArg >= 0 ? args[modelArg + 1] : undefined;
const settings = quick
  ? Object.fromEntries(
      Object.entries(METHODS).map(([name, s]) => [
        name,
        { ...s, steps: 2, ...(name === 'dpo' ? { pairsPerPrompt: 1 } : {}) },
      ]),
    )
  : METHODS;
const log = (line) => console.error(line);
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const out = await runWorkedExample({ methods, settings, log, modelDir });
log('reward model: Bradley-Terry on sentiment pairs');
const rewardModel = await sentimentRewardModel({
  dataDir: DATA_DIR,
  steps: quick ? 10 : 300,
});
const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The CPU model and its widest vector ISA (from /proc/cpuinfo where there is one). */
function describeCpu() {
  const model = cpus()[0]?.model?.trim() || 'unknown CPU';
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {}
  const has = (flag) => flags.split(' ').includes(flag);
  const isa = has('avx512f') ? 'AVX-512' : has('avx2') ? 'AVX2' : '';
  return isa ? `${model} (${isa})` : model;
}
const cpu = describeCpu();
const backend = core.getBackend().name;
const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
console.log(
  `rlhf worked example: ${out.modelDir} (GPT, ${out.model.nLayer} layers, ${out.model.nEmbd} wide, block ${out.model.blockSize}), backend ${backend}, ${cpu}, ${cpus().length} cores, load average ${loadBefore} before / ${loadAfter} after${quick ? ' (--quick: not a measurement)' : ''}`,
);
console.log(
  `reward: P(positive) of the sentiment classifier (${(out.sentiment.accuracy * 100).toFixed(1)}% held-out accuracy on ${out.sentiment.heldOut} sentences); ${out.prompts.length} prompts, 128 samples of 32 characters per evaluation`,
);
console.log('');
console.log(
  '| method | steps | reward before | reward after | rise | KL to reference (nats/sample) | ms/step mean | ms/step best |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of out.results)
  console.log(
    `| ${r.method} | ${r.steps} | ${r.rewardBefore.toFixed(4)} | ${r.rewardAfter.toFixed(4)} | ${signed(r.rewardAfter - r.rewardBefore)} | ${r.kl.toFixed(2)} | ${r.msPerStep.toFixed(0)} | ${r.msPerStepBest.toFixed(0)} |`,
  );
console.log('');
console.log(
  `reward model (Bradley-Terry, trainRewardModel): held-out pair accuracy ${(rewardModel.evalAccuracy * 100).toFixed(1)}% on ${rewardModel.heldOutPairs} pairs (${rewardModel.trainPairs} training pairs, ${rewardModel.steps} steps, ${rewardModel.msPerStep.toFixed(0)} ms/step)`,
);
console.log('');
console.log(`samples before: ${JSON.stringify(out.before.samples.slice(0, 3).map((s) => s.text))}`);
for (const r of out.results)
  console.log(
    `samples after ${r.method}: ${JSON.stringify(r.samples.slice(0, 3).map((s) => s.text))}`,
  );
console.log(
  JSON.stringify({
    bench: 'rlhf',
    backend,
    cpu,
    cores: cpus().length,
    loadAverage: { before: loadBefore, after: loadAfter },
    quick,
    classifierAccuracy: out.sentiment.accuracy,
    rewardBefore: out.before.reward,
    methods: Object.fromEntries(
      out.results.map((r) => [
        r.method,
        {
          steps: r.steps,
          rewardAfter: r.rewardAfter,
          rise: r.rewardAfter - r.rewardBefore,
          kl: r.kl,
          msPerStep: r.msPerStep,
          msPerStepBest: r.msPerStepBest,
          ...(r.pairs ? { pairs: r.pairs } : {}),
        },
      ]),
    ),
    rewardModel: {
      heldOutPairAccuracy: rewardModel.evalAccuracy,
      heldOutPairs: rewardModel.heldOutPairs,
      trainPairs: rewardModel.trainPairs,
      steps: rewardModel.steps,
      msPerStep: rewardModel.msPerStep,
    },
  }),
);
