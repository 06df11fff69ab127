import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
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

async function writeSynced(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a checkpoint folder `dir/checkpoint-NNNNNNN/` (model.safetensors, optimizer.safetensors,
 * trainer.json) atomically: everything goes into a hidden temporary folder, each file is
 * fsynced, then the folder is renamed into place and its parent fsynced. A crash at any moment
 * leaves the previous checkpoints intact and at worst a temporary folder that loading ignores.
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
  const temporary = join(dir, `.${name(state.step)}.${process.pid}.tmp`);
  await rm(temporary, { recursive: true, force: true });
  await mkdir(temporary);

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
  await writeSynced(
    join(temporary, 'model.safetensors'),
    await writeSafetensors(model.stateDict()),
  );
  await writeSynced(
    join(temporary, 'optimizer.safetensors'),
    await writeSafetensors(optimizerTensors, { optimizer: JSON.stringify(optimizerJson) }),
  );
  await writeSynced(join(temporary, 'trainer.json'), `${JSON.stringify(state)}\n`);
  await syncFolder(temporary);

  // replace an existing folder of the same step (a resumed run passing it again)
  const stale = `${final}.${process.pid}.old`;
  const existed = await rename(final, stale).then(
    () => true,
    () => false,
  );
  await rename(temporary, final);
  await syncFolder(dir);
  if (existed) await rm(stale, { recursive: true, force: true });

  const steps = await listCheckpoints(dir);
  for (const step of steps.slice(0, Math.max(0, steps.length - keepLast)))
    await rm(join(dir, name(step)), { recursive: true, force: true });
  return final;
}

/** Deletes temporary folders left by writers that died mid-write (their process is gone). */
async function removeAbandonedTemporaries(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    const m =
      /^\.checkpoint-\d+\.(\d+)\.tmp$/.exec(entry) ?? /^checkpoint-\d+\.(\d+)\.old$/.exec(entry);
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
 * returns its trainer state. Throws `no_checkpoint` when there is none, `bad_checkpoint` when
 * its files do not match the model.
 */
export async function loadCheckpoint(
  dir: string,
  options: { model: Module; optimizer?: Optimizer<object>; step?: number },
): Promise<TrainerState> {
  const steps = await listCheckpoints(dir);
  const step = options.step ?? steps.at(-1);
  if (step === undefined || !steps.includes(step)) {
    throw new TrainerError(
      'no_checkpoint',
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
    throw new TrainerError('bad_checkpoint', `cannot load ${folder}: ${(error as Error).message}`);
  }
}
