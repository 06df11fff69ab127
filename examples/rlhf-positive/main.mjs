#!/usr/bin/env node
// Runs the worked example and prints reward before and after, the KL to the reference and
// samples before and after, per method. Options: --methods ppo,grpo,dpo  --model DIR  --data DIR
// (default: the repository's sibling shared/data), --json (one JSON line at the end).
import '@llmkit/backend-cpu/register';
import { DATA_DIR, runWorkedExample } from './worked-example.mjs';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const methods = (option('--methods') ?? 'ppo,grpo,dpo').split(',');
const out = await runWorkedExample({
  methods,
  dataDir: option('--data') ?? DATA_DIR,
  modelDir: option('--model'),
  log: (line) => console.error(line),
});

const show = (samples) =>
  samples.map((s) => `  ${s.reward.toFixed(2)}  ${JSON.stringify(s.text)}`).join('\n');
console.log(`model: ${out.modelDir} (${out.model.nLayer} layers, ${out.model.nEmbd} wide)`);
console.log(
  `reward: P(positive) of a sentiment classifier, ${(out.sentiment.accuracy * 100).toFixed(1)}% held-out accuracy`,
);
console.log(`\nbefore: mean reward ${out.before.reward.toFixed(4)}\n${show(out.before.samples)}`);
for (const r of out.results) {
  console.log(
    `\n${r.method}: mean reward ${r.rewardBefore.toFixed(4)} -> ${r.rewardAfter.toFixed(4)} (${r.rewardAfter >= r.rewardBefore ? '+' : ''}${(r.rewardAfter - r.rewardBefore).toFixed(4)}), KL to the reference ${r.kl.toFixed(2)} nats/sample, ${r.steps} steps, ${r.msPerStep.toFixed(0)} ms/step${r.pairs ? `, ${r.pairs} pairs` : ''}`,
  );
  console.log(show(r.samples));
}
if (args.includes('--json'))
  console.log(
    JSON.stringify({
      classifierAccuracy: out.sentiment.accuracy,
      rewardBefore: out.before.reward,
      methods: Object.fromEntries(out.results.map(({ method, samples, ...r }) => [method, r])),
    }),
  );
