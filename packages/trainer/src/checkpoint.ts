import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Module,
  type Optimizer,
  type OptimizerStateDict,
  parseSafetensors,
  readSafetensors,
  type Tensor,
  writeSafetensors,
} from '@llmkit/core-tensor';
import { writeFolderAtomic } from '@llmkit/utils';
import { TrainerError } from './errors.js';

/** What a checkpoint records besides weights and optimizer state. */
export interface TrainerState {
  /** Optimizer steps completed. */
  step: number;
  /** The data source's position (see `TrainingData.state`). */
  data: unknown;
  /** Best validation loss so far (for early stopping), or null. */
  bestValidationLoss: number | null;
  /** Evaluations since the best one (for early stopping). */
  evaluationsWithoutImprovement: number;
  /** Loss history for the loss curve: [step, train loss, validation loss or null]. */
  history: [number, number, number | null][];
  /** The global random generator's position (dropout, sampling), restored on resume. */
  rng?: { words: number[]; spare: number | null };
  /** Free-form details (config, preset, tokenizer) the caller wants to keep with the weights. */
  extra?: Record<string, unknown>;
}

const PATTERN = /^checkpoint-(\d+)$/;
const name = (step: number) => `checkpoint-${String(step).padStart(7, '0')}`;

/**
 * Writes a checkpoint folder `dir/checkpoint-NNNNNNN/` (model.safetensors, optimizer.safetensors,
 * trainer.json) atomically with @llmkit/utils' `writeFolderAtomic`: everything goes into a hidden
 * temporary folder, each file is fsynced, then the folder is renamed into place and its parent
 * fsynced. A crash at any moment leaves the previous checkpoints intact and at worst a hidden
 * temporary (`.checkpoint-NNNNNNN.<pid>.<time>.<random>.tmp`, or `.old` for a replaced folder)
 * that loading ignores and the next save removes once its writer has died.
 * Keeps the newest `keepLast` checkpoints and deletes older ones.
 *
 * @example
 * ```ts
 * await saveCheckpoint('runs/shakespeare', { model, optimizer, state, keepLast: 3 });
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  options: { model: Module; optimizer: Optimizer<object>; state: TrainerState; keepLast?: number },
): Promise<string> {
  const { model, optimizer, state, keepLast = 3 } = options;
  await mkdir(dir, { recursive: true });
  await removeAbandonedTemporaries(dir);
  const final = join(dir, name(state.step));

  const optimizerDict = optimizer.stateDict();
  const optimizerTensors: Record<string, Tensor> = {};
  const optimizerJson: { paramGroups: unknown[]; steps: Record<string, number> } = {
    paramGroups: optimizerDict.paramGroups,
    steps: {},
  };
  for (const [index, s] of Object.entries(optimizerDict.state)) {
    optimizerJson.steps[index] = s.step;
    for (const [tensorName, t] of Object.entries(s.tensors))
      optimizerTensors[`state.${index}.${tensorName}`] = t;
  }
  // replaces an existing folder of the same step (a resumed run passing it again)
  await writeFolderAtomic(final, {
    'model.safetensors': await writeSafetensors(model.stateDict()),
    'optimizer.safetensors': await writeSafetensors(optimizerTensors, {
      optimizer: JSON.stringify(optimizerJson),
    }),
    'trainer.json': `${JSON.stringify(state)}\n`,
  });

  const steps = await listCheckpoints(dir);
  for (const step of steps.slice(0, Math.max(0, steps.length - keepLast)))
    await rm(join(dir, name(step)), { recursive: true, force: true });
  return final;
}

/** Deletes temporary folders left by writers that died mid-write (their process is gone). */
async function removeAbandonedTemporaries(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    // the names of @llmkit/utils' temporaryPath: `.<name>.<pid>.<time>.<random>.tmp` (`.old`)
    const m = /^\.checkpoint-\d+\.(\d+)\.[0-9a-z]+\.[0-9a-z]+\.(?:tmp|old)$/.exec(entry);
    if (!m || Number(m[1]) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch (error) {
      alive = (error as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** Steps of the complete checkpoints in `dir`, ascending (temporary folders are not listed). */
export async function listCheckpoints(dir: string): Promise<number[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .flatMap((entry) => {
      const m = PATTERN.exec(entry);
      return m ? [Number(m[1])] : [];
    })
    .sort((a, b) => a - b);
}

/**
 * Loads the newest checkpoint of `dir` (or the one at `step`) into `model` and `optimizer`, and
 * returns its trainer state. Throws `not_found` when there is none, `corrupt_file` when its
 * files do not load into the model.
 */
export async function loadCheckpoint(
  dir: string,
  options: { model: Module; optimizer?: Optimizer<object>; step?: number },
): Promise<TrainerState> {
  const steps = await listCheckpoints(dir);
  const step = options.step ?? steps.at(-1);
  if (step === undefined || !steps.includes(step)) {
    throw new TrainerError(
      'not_found',
      `no checkpoint${options.step === undefined ? '' : ` at step ${options.step}`} in ${dir} (found: ${steps.join(', ') || 'none'})`,
    );
  }
  const folder = join(dir, name(step));
  try {
    const read = async (file: string) => new Uint8Array(await readFile(join(folder, file)));
    options.model.loadStateDict(readSafetensors(await read('model.safetensors')), { strict: true });
    if (options.optimizer) {
      const bytes = await read('optimizer.safetensors');
      const tensors = readSafetensors(bytes);
      const json = JSON.parse(parseSafetensors(bytes).metadata.optimizer ?? '{}') as {
        paramGroups: never[];
        steps: Record<string, number>;
      };
      const state: OptimizerStateDict<object>['state'] = {};
      for (const [index, stepCount] of Object.entries(json.steps))
        state[Number(index)] = { step: stepCount, tensors: {} };
      for (const [key, t] of Object.entries(tensors)) {
        const [, index, tensorName] = key.split('.');
        state[Number(index)].tensors[tensorName] = t;
      }
      options.optimizer.loadStateDict({ state, paramGroups: json.paramGroups });
      for (const s of Object.values(state)) for (const t of Object.values(s.tensors)) t.dispose();
    }
    return JSON.parse(await readFile(join(folder, 'trainer.json'), 'utf8')) as TrainerState;
  } catch (error) {
    if (error instanceof TrainerError) throw error;
    throw new TrainerError('corrupt_file', `cannot load ${folder}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
