// `llmkit align`: DPO, GRPO, PPO or a reward model on JSON-lines data, starting from the policy of
// a `llmkit train` run folder, with @llmkit/rlhf's trainers. The aligned policy is written to
// --out as a run folder (run.json + config.json + model.safetensors: `llmkit sample --checkpoint
// OUT` reads it); the resumable checkpoints live in OUT/align/.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { manualSeed } from '@llmkit/core-tensor';
import {
  type PreferencePair,
  type RewardFunction,
  type StepMetrics,
  scalarReward,
  trainDpo,
  trainGrpo,
  trainPpo,
  trainRewardModel,
} from '@llmkit/rlhf';
import { CharTokenizer } from '@llmkit/tokenizer';
import { EncoderForSequenceClassification, GPT, load } from '@llmkit/transformer';
import { chooseBackend } from '../backend.js';
import { CliError } from '../cli-error.js';
import { integerFlag, numberFlag, parseFlags, seedFlag } from '../flags.js';
import { openLanguageModel, writeModel, writeRun } from '../run-folder.js';

export const ALIGN_HELP = `usage: llmkit align --method dpo|grpo|ppo|reward-model --checkpoint DIR --data FILE.jsonl --out DIR
                    [--steps N] [--batch-size N] [--lr X] [--beta B] [--group-size G] [--kl K]
                    [--max-new-tokens N] [--reward-model DIR | --reward-words w1,w2,...]
                    [--save-every N] [--resume] [--seed N] [--backend NAME] [--json]

Aligns a language model trained with \`llmkit train\` (DIR is its --out folder) with feedback.
  --method M            dpo (preference pairs), grpo or ppo (on-policy, needs a reward), or
                        reward-model (trains a scalar reward model on preference pairs)
  --data FILE           JSON lines: {"prompt","chosen","rejected"} for dpo and reward-model,
                        {"prompt"} for grpo and ppo
  --out DIR             where the aligned model (or reward model) and its checkpoints go
  --steps N             optimizer steps (rollouts for grpo/ppo; default 20)
  --batch-size N        pairs or prompts per step (default 4)
  --lr X                AdamW learning rate (default 1e-4)
  --beta B              DPO's beta (default 0.1)
  --group-size G        GRPO's completions per prompt (default 4)
  --kl K                GRPO's KL coefficient, PPO's initial one (default 0.04 / 0.2)
  --max-new-tokens N    completion length for grpo/ppo (default 16)
  --reward-model DIR    the --out folder of \`llmkit align --method reward-model\`
  --reward-words LIST   reward = share of the completion's words in this comma-separated list
  --save-every N        checkpoint every N steps (default: at the end)
  --resume              continue from the newest checkpoint in OUT/align
  --seed N              seed of batch order and sampling (default 1337)
  --backend NAME        cpu (native, the default when it builds here), js (reference) or webgpu
  --json                one JSON line per step; the last line is the summary`;

type Method = 'dpo' | 'grpo' | 'ppo' | 'reward-model';
const METHODS: Method[] = ['dpo', 'grpo', 'ppo', 'reward-model'];

/**
 * Reads a JSON-lines file; errors name the file and line. Blank lines are skipped.
 * readJsonLines('a.jsonl', ['prompt']) on `{"prompt": 1}` -> a.jsonl line 1: "prompt" must be a string
 */
export function readJsonLines(path: string, fields: readonly string[]): Record<string, string>[] {
  if (!existsSync(path)) throw new CliError(`--data ${path}: no such file`, { code: 'not_found' });
  const out: Record<string, string>[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new CliError(
        `--data ${path} line ${i + 1}: not valid JSON (${(error as Error).message})`,
        {
          code: 'invalid_data',
        },
      );
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      throw new CliError(
        `--data ${path} line ${i + 1}: expected an object with ${fields.map((f) => `"${f}"`).join(', ')}`,
        {
          code: 'invalid_data',
        },
      );
    for (const field of fields)
      if (typeof (record as Record<string, unknown>)[field] !== 'string')
        throw new CliError(
          `--data ${path} line ${i + 1}: "${field}" must be a string, got ${JSON.stringify((record as Record<string, unknown>)[field])}`,
          {
            code: 'invalid_data',
          },
        );
    out.push(record as Record<string, string>);
  }
  if (out.length === 0) throw new CliError(`--data ${path}: no records`, { code: 'invalid_data' });
  return out;
}

/** A word-list reward: the share of the completion's words that are in `words`. */
function wordReward(words: string[]): RewardFunction {
  const set = new Set(words.map((w) => w.toLowerCase()));
  return (_prompt, completion) => {
    const tokens = completion.toLowerCase().match(/[a-z']+/g) ?? [];
    return tokens.length === 0 ? 0 : tokens.filter((t) => set.has(t)).length / tokens.length;
  };
}

/** `llmkit align`. */
export async function align(args: string[]): Promise<Record<string, unknown> | undefined> {
  const { values } = parseFlags('align', args, {
    method: { type: 'string' },
    checkpoint: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    steps: { type: 'string', default: '20' },
    'batch-size': { type: 'string', default: '4' },
    lr: { type: 'string', default: '1e-4' },
    beta: { type: 'string', default: '0.1' },
    'group-size': { type: 'string', default: '4' },
    kl: { type: 'string' },
    'max-new-tokens': { type: 'string', default: '16' },
    'reward-model': { type: 'string' },
    'reward-words': { type: 'string' },
    'save-every': { type: 'string' },
    resume: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1337' },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    console.log(ALIGN_HELP);
    return undefined;
  }
  const method = values.method as Method;
  if (!METHODS.includes(method))
    throw new CliError(`--method ${values.method ?? '(missing)'}: expected ${METHODS.join(', ')}`);
  if (!values.checkpoint)
    throw new CliError('--checkpoint DIR (the --out folder of llmkit train) is required');
  if (!values.data) throw new CliError('--data FILE.jsonl is required');
  if (!values.out) throw new CliError('--out DIR is required');
  const steps = integerFlag('steps', values.steps);
  const batchSize = integerFlag('batch-size', values['batch-size']);
  const lr = numberFlag('lr', values.lr, true);
  const seed = seedFlag(values.seed);
  const saveEvery =
    values['save-every'] === undefined
      ? undefined
      : integerFlag('save-every', values['save-every']);
  const onPolicy = method === 'grpo' || method === 'ppo';
  if (onPolicy && !values['reward-model'] && !values['reward-words'])
    throw new CliError(
      `--method ${method} needs a reward: --reward-model DIR or --reward-words w1,w2,...`,
    );
  const records = readJsonLines(
    values.data,
    onPolicy ? ['prompt'] : ['prompt', 'chosen', 'rejected'],
  );
  await chooseBackend(values.backend);
  manualSeed(seed);
  const from = resolve(values.checkpoint);
  const out = resolve(values.out);
  const { run, model: policy, tokenizer } = await openLanguageModel(from);
  // every record must be in the model's characters; say which line is not
  for (const [i, record] of records.entries())
    for (const field of onPolicy ? ['prompt'] : ['prompt', 'chosen', 'rejected'])
      try {
        tokenizer.encode(record[field]);
      } catch (error) {
        throw new CliError(
          `--data ${values.data} record ${i + 1}: ${field}: ${(error as Error).message}`,
          {
            code: 'invalid_data',
          },
        );
      }
  const checkpoint = {
    dir: join(out, 'align'),
    every: saveEvery,
    resume: values.resume,
    keepLast: 2,
  };
  const optimizer = { lr };
  const log = (metrics: StepMetrics) => {
    if (values.json) console.log(JSON.stringify({ method, ...metrics }));
    else
      console.error(
        `step ${metrics.step}/${steps}  ${Object.entries(metrics)
          .filter(([k]) => k !== 'step')
          .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
          .join('  ')}`,
      );
  };
  let history: StepMetrics[];
  const summary: Record<string, unknown> = { method, steps };
  try {
    if (method === 'reward-model') {
      const pairs = records as unknown as PreferencePair[];
      const held = pairs.length >= 10 ? Math.max(1, Math.floor(pairs.length / 10)) : 0;
      const model = new EncoderForSequenceClassification(
        {
          vocabSize: tokenizer.vocabSize,
          blockSize: policy.config.blockSize,
          nLayer: 2,
          nHead: 2,
          nEmbd: 32,
        },
        1,
      );
      const result = await trainRewardModel({
        model,
        tokenizer,
        pairs: pairs.slice(0, pairs.length - held),
        evalPairs: held ? pairs.slice(pairs.length - held) : undefined,
        steps,
        batchSize,
        seed,
        optimizer,
        onStep: log,
        checkpoint,
      });
      history = result.history;
      summary.heldOutPairs = held;
      summary.heldOutAccuracy = result.evalAccuracy;
      model.eval();
      await writeModel(out, model);
      writeFileSync(join(out, 'reward-tokenizer.json'), `${JSON.stringify(tokenizer.toJSON())}\n`);
    } else {
      let reward: RewardFunction | undefined;
      if (values['reward-model']) {
        const dir = resolve(values['reward-model']);
        const loaded = await load(dir).catch((error: Error) => {
          throw new CliError(`--reward-model ${dir}: ${error.message}`, { code: 'not_found' });
        });
        if (
          !(loaded instanceof EncoderForSequenceClassification) ||
          !existsSync(join(dir, 'reward-tokenizer.json'))
        )
          throw new CliError(
            `--reward-model ${dir}: not the --out folder of llmkit align --method reward-model`,
          );
        loaded.eval();
        const rewardTokenizer = CharTokenizer.fromJSON(
          JSON.parse(readFileSync(join(dir, 'reward-tokenizer.json'), 'utf8')),
        );
        reward = scalarReward(loaded, rewardTokenizer);
      } else if (values['reward-words']) reward = wordReward(values['reward-words'].split(','));
      const reference = new GPT(policy.config);
      reference.loadStateDict(policy.stateDict());
      for (const p of reference.parameters()) p.requiresGrad = false;
      reference.eval();
      const sampling = { maxNewTokens: integerFlag('max-new-tokens', values['max-new-tokens']) };
      const kl = values.kl === undefined ? undefined : numberFlag('kl', values.kl);
      if (kl !== undefined && kl < 0)
        throw new CliError(`--kl ${values.kl}: expected a number >= 0`);
      if (method === 'dpo') {
        history = (
          await trainDpo({
            policy,
            reference,
            pairs: records as unknown as PreferencePair[],
            tokenizer,
            config: { beta: numberFlag('beta', values.beta, true) },
            steps,
            batchSize,
            seed,
            optimizer,
            onStep: log,
            checkpoint,
          })
        ).history;
      } else if (method === 'grpo') {
        history = (
          await trainGrpo({
            policy,
            reference,
            prompts: records.map((r) => r.prompt),
            reward: reward!,
            tokenizer,
            config: {
              groupSize: integerFlag('group-size', values['group-size'], 2),
              ...(kl === undefined ? {} : { klCoefficient: kl }),
            },
            sampling,
            steps,
            batchSize,
            seed,
            optimizer,
            onStep: log,
            checkpoint,
          })
        ).history;
      } else {
        history = (
          await trainPpo({
            policy,
            reference,
            prompts: records.map((r) => r.prompt),
            reward: reward!,
            tokenizer,
            config: kl === undefined ? {} : { initKlCoefficient: kl },
            sampling,
            steps,
            batchSize,
            seed,
            optimizer,
            onStep: log,
            checkpoint,
          })
        ).history;
      }
      policy.eval();
      await writeModel(out, policy);
      writeRun(out, {
        task: 'language-model',
        model: run.model,
        tokenizer: run.tokenizer,
        data: run.data,
        ...(run.preset === undefined ? {} : { preset: run.preset }),
      });
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    const e = error as Error & { code?: string };
    if (e.code === 'invalid_data' || e.code === 'invalid_config' || e.code === 'not_found')
      throw new CliError(`llmkit align: ${e.message}`, { code: e.code as 'invalid_data' });
    throw error;
  }
  const first = history[0];
  const last = history.at(-1);
  Object.assign(summary, {
    stepsRun: history.length,
    firstLoss: first?.loss ?? null,
    lastLoss: last?.loss ?? null,
    msPerStep: history.length ? history.reduce((a, m) => a + m.ms, 0) / history.length : null,
    last: last ?? null,
    out,
  });
  if (values.json) console.log(JSON.stringify(summary));
  else
    console.log(
      `llmkit align --method ${method}: ${history.length} steps; loss ${first?.loss.toFixed(4)} -> ${last?.loss.toFixed(4)}; model in ${out}`,
    );
  return summary;
}
