import { checkNumber, configError } from '@llmkit/utils';
import { SamplingError } from '../errors.js';
import type { LogitsProcessor } from '../processors/types.js';
import { type StepFunction, splitStepResult } from '../step.js';

/** Why a sequence ended. */
export type FinishReason = 'eos' | 'length' | 'stop_string' | 'aborted';

/** Options of {@link beamSearch}. */
export interface BeamSearchOptions {
  /** Beams kept per prompt, >= 1. */
  numBeams: number;
  /** The most tokens generated per prompt, >= 1. */
  maxNewTokens: number;
  /** End-of-sequence token id(s): a beam that emits one is finished. */
  eosTokenId?: number | readonly number[];
  /**
   * Exponent of the length normalization: a finished beam scores `sumLogProbs / length **
   * lengthPenalty`, `length` counting generated tokens (EOS included). Above 0 favours longer
   * sequences, below 0 shorter ones. Default 1, as Hugging Face.
   */
  lengthPenalty?: number;
  /**
   * When to stop (Hugging Face's `early_stopping`): `true` as soon as `numBeams` sequences are
   * finished; `false` (default) when no running beam can beat the worst finished one judged at the
   * current length (a heuristic); `'never'` only when that is certain (judged at `maxNewTokens`
   * when `lengthPenalty > 0`), which makes the search exact given enough beams.
   */
  earlyStopping?: boolean | 'never';
  /** Sequences returned per prompt, best first; 1 to numBeams, default 1. */
  numReturnSequences?: number;
  /** Run on each beam's log-probabilities before scoring (as Hugging Face does in beam search). */
  processors?: readonly LogitsProcessor[];
  /** Extra stopping rule on a candidate sequence (prompt included), e.g. stop strings. */
  isStopped?: (sequence: readonly number[], promptLength: number) => boolean;
  /** Stops the search; the running beams then count as finished with reason `aborted`. */
  signal?: AbortSignal;
}

/** One returned sequence of {@link beamSearch}. */
export interface BeamHypothesis {
  /** Prompt followed by the generated tokens (EOS included when it ended the beam). */
  tokens: number[];
  /** Sum of the generated tokens' log-probabilities divided by `length ** lengthPenalty`. */
  score: number;
  /** Why it ended. */
  finishReason: FinishReason;
}

interface Beam {
  tokens: number[];
  /** Sum of log-probabilities of the generated tokens. */
  sum: number;
  /** Its row in the last step call. */
  row: number;
}

interface PromptSearch {
  prompt: readonly number[];
  running: Beam[];
  finished: BeamHypothesis[];
  /** Hugging Face's `is_early_stop_heuristic_unsatisfied`: sticky once false. */
  improvementPossible: boolean;
  done: boolean;
}

/**
 * Beam search with Hugging Face's semantics (`GenerationMixin._beam_search`): each step scores
 * every continuation of every running beam by its summed log-probability, takes the best
 * `max(2, 1 + number of EOS ids) * numBeams`, keeps the best `numBeams` that did not stop as the
 * running beams, and files those among the top `numBeams` that did stop (EOS, length, stop rule)
 * as finished with the length-normalized score. Prompts are searched together: each step call
 * carries the running beams of every unfinished prompt.
 *
 * @returns for each prompt, up to `numReturnSequences` hypotheses, best first
 * @example
 * ```ts
 * const [best] = (await beamSearch(step, [[0]], { numBeams: 4, maxNewTokens: 8, eosTokenId: 2 }))[0];
 * best.tokens; // the prompt and the highest-scoring continuation
 * ```
 */
export async function beamSearch(
  step: StepFunction,
  prompts: readonly (readonly number[])[],
  options: BeamSearchOptions,
): Promise<BeamHypothesis[][]> {
  const where = 'beamSearch';
  const numBeams = checkNumber(where, 'numBeams', options.numBeams, { min: 1, integer: true });
  const maxNewTokens = checkNumber(where, 'maxNewTokens', options.maxNewTokens, {
    min: 1,
    integer: true,
  });
  const lengthPenalty = checkNumber(where, 'lengthPenalty', options.lengthPenalty ?? 1, {});
  const earlyStopping = options.earlyStopping ?? false;
  if (earlyStopping !== true && earlyStopping !== false && earlyStopping !== 'never') {
    configError(where, 'earlyStopping', earlyStopping, "true, false or 'never'");
  }
  const numReturnSequences = checkNumber(
    where,
    'numReturnSequences',
    options.numReturnSequences ?? 1,
    { min: 1, max: numBeams, integer: true },
  );
  const eos = new Set(eosList(options.eosTokenId, where));
  const processors = options.processors ?? [];
  const candidatesPerPrompt = Math.max(2, 1 + eos.size) * numBeams;

  const scratch: Float32Array[] = []; // one log-probability row per beam, reused every step
  const searches: PromptSearch[] = prompts.map((prompt) => ({
    prompt,
    running: [{ tokens: [...prompt], sum: 0, row: -1 }],
    finished: [],
    improvementPossible: true,
    done: false,
  }));
  for (let generated = 0; ; generated++) {
    const active = searches.filter((search) => !search.done);
    if (active.length === 0) break;
    if (options.signal?.aborted) {
      for (const search of active) finishAborted(search, generated, lengthPenalty, numBeams);
      break;
    }
    const sequences: number[][] = [];
    const parentRows: number[] = [];
    const promptIndex: number[] = [];
    for (const search of active) {
      for (const beam of search.running) {
        parentRows.push(beam.row);
        beam.row = sequences.length;
        sequences.push(beam.tokens);
        promptIndex.push(searches.indexOf(search));
      }
    }
    const result = await step(sequences, { step: generated, parentRows, promptIndex });
    const logits = splitStepResult(result, sequences.length, where);
    for (const search of active) {
      const scores = search.running.map((beam, j) => {
        const logProbabilities = logSoftmax(logits[beam.row], scratch, j);
        for (const processor of processors) processor.process(logProbabilities, beam.tokens);
        return logProbabilities;
      });
      const top = topContinuations(search.running, scores, candidatesPerPrompt);
      const nextRunning: Beam[] = [];
      let allStopped = true;
      const length = generated + 1;
      // As in Hugging Face, "full" is judged once per step: this step's finished candidates are all
      // merged with the earlier ones, and the best numBeams kept.
      const fullBefore = search.finished.length >= numBeams;
      for (let rank = 0; rank < top.length; rank++) {
        const { beam, token, sum } = top[rank];
        const tokens = [...beam.tokens, token];
        const reason: FinishReason | null = eos.has(token)
          ? 'eos'
          : options.isStopped?.(tokens, search.prompt.length)
            ? 'stop_string'
            : length >= maxNewTokens
              ? 'length'
              : null;
        if (reason === null) {
          allStopped = false;
          if (nextRunning.length < numBeams) nextRunning.push({ tokens, sum, row: beam.row });
          continue;
        }
        if (
          rank >= numBeams ||
          !search.improvementPossible ||
          (fullBefore && earlyStopping === true)
        ) {
          continue;
        }
        addFinished(search.finished, numBeams, {
          tokens,
          score: sum / length ** lengthPenalty,
          finishReason: reason,
        });
      }
      search.running = nextRunning;
      // Can a running beam still beat the worst finished one? (Hugging Face's heuristic.)
      if (search.improvementPossible && search.finished.length >= numBeams) {
        const best = nextRunning[0];
        const hypotheticalLength =
          earlyStopping === 'never' && lengthPenalty > 0 ? maxNewTokens : length;
        const worst = search.finished[search.finished.length - 1].score;
        search.improvementPossible =
          best !== undefined && best.sum / hypotheticalLength ** lengthPenalty > worst;
      }
      const full = search.finished.length >= numBeams;
      search.done =
        !search.improvementPossible ||
        (full && earlyStopping === true) ||
        allStopped ||
        nextRunning.length === 0;
    }
  }
  return searches.map((search) => search.finished.slice(0, numReturnSequences));
}

/** Normalizes an `eosTokenId` option to a list, checking each id. */
export function eosList(
  eosTokenId: number | readonly number[] | undefined,
  where: string,
): number[] {
  if (eosTokenId === undefined) return [];
  const list = typeof eosTokenId === 'number' ? [eosTokenId] : eosTokenId;
  if (!Array.isArray(list))
    configError(where, 'eosTokenId', eosTokenId, 'a token id or a list of them');
  for (let i = 0; i < list.length; i++) {
    checkNumber(where, `eosTokenId[${i}]`, list[i], { min: 0, integer: true });
  }
  return [...list];
}

/** log(softmax(logits)), computed in float64, into `scratch[slot]` (grown as needed). */
function logSoftmax(logits: Float32Array, scratch: Float32Array[], slot: number): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity || Number.isNaN(max)) {
    throw new SamplingError('invalid_logits', 'beamSearch: a row of logits has no finite maximum');
  }
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  const logSum = Math.log(sum) + max;
  if (scratch[slot]?.length !== logits.length) scratch[slot] = new Float32Array(logits.length);
  const out = scratch[slot];
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - logSum;
  return out;
}

interface Continuation {
  beam: Beam;
  token: number;
  sum: number;
  /** Beam rank * vocabSize + token: the tie-break (lower first), like a flat top-k. */
  flat: number;
}

/** The best `count` continuations over all beams, best first (ties: lower beam, then lower id). */
function topContinuations(beams: Beam[], scores: Float32Array[], count: number): Continuation[] {
  const best: Continuation[] = [];
  const worse = (a: Continuation, b: Continuation) =>
    a.sum < b.sum || (a.sum === b.sum && a.flat > b.flat);
  for (let b = 0; b < beams.length; b++) {
    const row = scores[b];
    for (let token = 0; token < row.length; token++) {
      if (row[token] === -Infinity) continue;
      const sum = beams[b].sum + row[token];
      const flat = b * row.length + token;
      if (best.length === count) {
        const last = best[count - 1];
        if (sum < last.sum || (sum === last.sum && flat > last.flat)) continue;
      }
      const candidate = { beam: beams[b], token, sum, flat };
      // Insertion into a short sorted list: count is 2 or 3 times numBeams.
      let position = best.length;
      while (position > 0 && worse(best[position - 1], candidate)) position--;
      best.splice(position, 0, candidate);
      if (best.length > count) best.pop();
    }
  }
  return best;
}

/** Inserts a finished hypothesis, keeping the best `capacity`, best first (earlier first on ties). */
function addFinished(
  finished: BeamHypothesis[],
  capacity: number,
  hypothesis: BeamHypothesis,
): void {
  let position = finished.length;
  while (position > 0 && finished[position - 1].score < hypothesis.score) position--;
  if (position >= capacity) return;
  finished.splice(position, 0, hypothesis);
  if (finished.length > capacity) finished.pop();
}

function finishAborted(
  search: PromptSearch,
  generated: number,
  lengthPenalty: number,
  numBeams: number,
): void {
  for (const beam of search.running) {
    if (generated === 0) continue;
    addFinished(search.finished, numBeams, {
      tokens: beam.tokens,
      score: beam.sum / generated ** lengthPenalty,
      finishReason: 'aborted',
    });
  }
  search.done = true;
}
