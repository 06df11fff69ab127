// On-policy rollouts for GRPO and PPO: sample completions of prompts with the policy
// (@llmkit/sampling's loop through GPT.generate, seeded per step so a resumed run samples the
// same ones) and score them with a reward function. A reward that is not a finite number stops
// the run here, before any update.
import { RlhfError } from './errors.js';
import type { RewardFunction } from './reward/loss.js';
import type { CausalPolicy, CompletionRow, TextTokenizer } from './sequences.js';

/** How completions are sampled. */
export interface RolloutSampling {
  /** Tokens per completion at most (default 32). */
  maxNewTokens?: number;
  /** Sampling temperature (default 1: the policy's own distribution, as the losses assume). */
  temperature?: number;
  /** Sample among the k most likely tokens (default: all). */
  topK?: number;
  /** Token id(s) that end a completion (default: none, completions run to maxNewTokens). */
  eosTokenId?: number | readonly number[];
}

/** Sampled completions with their rewards, prompt-major (`prompt * perPrompt + j`). */
export interface Rollout {
  rows: CompletionRow[];
  prompts: string[];
  completions: string[];
  rewards: number[];
}

/** Tokenizes prompts and checks that each is non-empty and leaves room for `maxNewTokens`. */
export function tokenizePrompts(
  where: string,
  prompts: readonly string[],
  tokenizer: TextTokenizer,
  blockSize: number,
  maxNewTokens: number,
): number[][] {
  if (prompts.length === 0) throw new RlhfError('invalid_data', `${where}: no prompts`);
  return prompts.map((prompt, i) => {
    if (typeof prompt !== 'string' || prompt.length === 0)
      throw new RlhfError(
        'invalid_data',
        `${where}: prompt ${i} is ${JSON.stringify(prompt)}; expected a non-empty string`,
      );
    const ids = tokenizer.encode(prompt);
    if (ids.length + maxNewTokens > blockSize)
      throw new RlhfError(
        'invalid_data',
        `${where}: prompt ${i} is ${ids.length} tokens; with maxNewTokens ${maxNewTokens} it exceeds blockSize ${blockSize}`,
      );
    return ids;
  });
}

/**
 * Samples `perPrompt` completions of each chosen prompt and scores them.
 *
 * @example
 * ```ts
 * const { completions, rewards } = await sampleRollout('trainGrpo', policy, tokenizer, ['the'], [[1]], 4, {}, 7, reward);
 * ```
 */
export async function sampleRollout(
  where: string,
  policy: CausalPolicy,
  tokenizer: TextTokenizer,
  prompts: readonly string[],
  promptIds: readonly (readonly number[])[],
  perPrompt: number,
  sampling: RolloutSampling,
  seed: number,
  reward: RewardFunction,
): Promise<Rollout> {
  const out: Rollout = { rows: [], prompts: [], completions: [], rewards: [] };
  for (let i = 0; i < prompts.length; i++) {
    const sequences = await policy.generate([promptIds[i]], {
      maxNewTokens: sampling.maxNewTokens ?? 32,
      minNewTokens: 1, // an empty completion has no log-probability to train
      doSample: true,
      temperature: sampling.temperature ?? 1,
      ...(sampling.topK === undefined ? {} : { topK: sampling.topK }),
      ...(sampling.eosTokenId === undefined ? {} : { eosTokenId: sampling.eosTokenId }),
      numReturnSequences: perPrompt,
      seed: seed + i * 7919,
    });
    for (const sequence of sequences) {
      const completion = sequence.slice(promptIds[i].length);
      const text = tokenizer.decode(completion);
      const value = await reward(prompts[i], text);
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new RlhfError(
          'invalid_data',
          `${where}: the reward function returned ${value} for prompt ${JSON.stringify(prompts[i].slice(0, 40))} and completion ${JSON.stringify(text.slice(0, 40))}; expected a finite number. The run stopped before this step's update`,
        );
      out.rows.push({ prompt: promptIds[i], completion });
      out.prompts.push(prompts[i]);
      out.completions.push(text);
      out.rewards.push(value);
    }
  }
  return out;
}
