import { describe, expect, it } from 'vitest';
import { generate, streamTokens, type TokenEvent, validateGenerationConfig } from './generate.js';
import { createSampler } from './sampler.js';
import type { StepFunction } from './step.js';

const VOCAB = 6;
/** A bigram "model": the next token is (last + 1) mod 6 with logit 4, others 0. */
const counting: StepFunction = (sequences) =>
  sequences.map((sequence) => {
    const logits = new Float32Array(VOCAB);
    logits[(sequence[sequence.length - 1] + 1) % VOCAB] = 4;
    return logits;
  });
const letters = (tokens: number[]) => tokens.map((t) => 'abcdef'[t]).join('');

describe('generate (greedy and sampling)', () => {
  it('greedy by default, prompt included, stops at maxNewTokens', async () => {
    const out = await generate(counting, [[0], [3, 4]], { maxNewTokens: 3 });
    expect(out.sequences).toEqual([
      [0, 1, 2, 3],
      [3, 4, 5, 0, 1],
    ]);
    expect(out.finishReasons).toEqual(['length', 'length']);
  });

  it('stops each row at its own EOS (one or several ids), keeping the EOS', async () => {
    const out = await generate(counting, [[0], [3]], { maxNewTokens: 10, eosTokenId: [2, 5] });
    expect(out.sequences).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(out.finishReasons).toEqual(['eos', 'eos']);
  });

  it('minNewTokens holds EOS back', async () => {
    const out = await generate(counting, [[0]], {
      maxNewTokens: 10,
      eosTokenId: 1,
      minNewTokens: 1,
    });
    // token 1 is banned at the first step, so the greedy choice is token 0 (first of the ties)
    expect(out.sequences[0].slice(0, 2)).toEqual([0, 0]);
  });

  it('stops on a stop string ending in the last token, not one inside the prompt', async () => {
    const out = await generate(counting, [[0, 1]], {
      maxNewTokens: 10,
      stopStrings: ['de', 'ab'],
      tokenizer: letters,
    });
    expect(letters(out.sequences[0])).toBe('abcde');
    expect(out.finishReasons).toEqual(['stop_string']);
    const withDecoder = await generate(counting, [[0]], {
      maxNewTokens: 10,
      stopStrings: ['cd'],
      tokenizer: { decode: letters },
    });
    expect(letters(withDecoder.sequences[0])).toBe('abcd');
  });

  it('streams tokens as they are generated, and drops finished rows from later steps', async () => {
    const rowsPerCall: number[] = [];
    let previous: (readonly number[])[] = [];
    const step: StepFunction = (sequences, context) => {
      rowsPerCall.push(sequences.length);
      sequences.forEach((sequence, row) => {
        // each row continues the row of the previous call that parentRows names
        const parent = context.parentRows[row];
        if (context.step === 0) expect(parent).toBe(-1);
        else expect(sequence.slice(0, -1)).toEqual(previous[parent]);
      });
      previous = sequences.map((sequence) => [...sequence]);
      return counting(sequences, context);
    };
    const events: TokenEvent[] = [];
    const stream = streamTokens(step, [[0], [4]], { maxNewTokens: 4, eosTokenId: 5 });
    let result = await stream.next();
    while (!result.done) {
      events.push(result.value);
      result = await stream.next();
    }
    expect(events.map((e) => [e.row, e.token, e.index])).toEqual([
      [0, 1, 0],
      [1, 5, 0],
      [0, 2, 1],
      [0, 3, 2],
      [0, 4, 3],
    ]);
    expect(events[1].finishReason).toBe('eos');
    expect(rowsPerCall).toEqual([2, 1, 1, 1]);
    expect(result.value.sequences).toEqual([
      [0, 1, 2, 3, 4],
      [4, 5],
    ]);
  });

  it('an abort signal ends generation, keeping what was generated', async () => {
    const controller = new AbortController();
    let calls = 0;
    const step: StepFunction = async (sequences, context) => {
      if (++calls === 3) controller.abort();
      return counting(sequences, context);
    };
    const out = await generate(step, [[0]], { maxNewTokens: 10, signal: controller.signal });
    expect(out.sequences).toEqual([[0, 1, 2]]);
    expect(out.finishReasons).toEqual(['aborted']);
  });

  it('sampling is reproducible with a seed, and numReturnSequences draws independent rows', async () => {
    const flat: StepFunction = (sequences) => sequences.map(() => new Float32Array(50));
    const config = { doSample: true, seed: 11, maxNewTokens: 8, numReturnSequences: 3 } as const;
    const a = await generate(flat, [[0]], config);
    const b = await generate(flat, [[0]], config);
    expect(a.sequences).toEqual(b.sequences);
    expect(a.sequences).toHaveLength(3);
    expect(new Set(a.sequences.map((s) => s.join())).size).toBe(3);
    const c = await generate(flat, [[0]], { ...config, seed: 12 });
    expect(c.sequences).not.toEqual(a.sequences);
  });

  it('penalizes the prompt and generated tokens when sampling greedily with penalties', async () => {
    // Without the penalty the counting model cycles; no-repeat 2-grams forbid a second "a b".
    const out = await generate(counting, [[0, 1]], { maxNewTokens: 6, noRepeatNgramSize: 2 });
    const pairs = out.sequences[0].slice(1).map((t, i) => `${out.sequences[0][i]},${t}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('runs beam search when numBeams > 1 and returns scores', async () => {
    const out = await generate(counting, [[0]], {
      numBeams: 3,
      numReturnSequences: 2,
      maxNewTokens: 3,
    });
    expect(out.sequences[0]).toEqual([0, 1, 2, 3]);
    expect(out.sequences).toHaveLength(2);
    expect(out.scores![0]).toBeGreaterThan(out.scores![1]);
  });

  it('rejects bad options and inputs with the field named', async () => {
    await expect(generate(counting, [[0]], { maxNewTokens: 0 })).rejects.toThrow(
      /maxNewTokens must be an integer >= 1, got 0/,
    );
    await expect(generate(counting, [[0]], { numReturnSequences: 2 })).rejects.toThrow(
      /numReturnSequences/,
    );
    await expect(generate(counting, [[0]], { numBeams: 2, doSample: true })).rejects.toThrow(
      /numBeams/,
    );
    await expect(generate(counting, [[0]], { stopStrings: ['x'] })).rejects.toThrow(/tokenizer/);
    await expect(generate(counting, [[0]], { eosTokenId: -1 })).rejects.toThrow(/eosTokenId\[0\]/);
    await expect(generate(counting, [[-1]])).rejects.toThrow(/prompts\[0\]/);
    await expect(generate(counting, [[-1]])).rejects.toMatchObject({
      name: 'SamplingError',
      code: 'invalid_data',
    });
    await expect(generate(counting, [[0]], { maxNewTokens: 0 })).rejects.toMatchObject({
      code: 'invalid_config',
    });
    await expect(generate(counting, [[0]], { max_new_tokens: 5 } as never)).rejects.toThrow(
      /unknown option "max_new_tokens"; did you mean maxNewTokens\?/,
    );
    await expect(generate(() => [new Float32Array(3)], [[0], [1]])).rejects.toThrow(
      /1 rows of logits for 2 sequences/,
    );
    expect(() => createSampler({ topK: 5 })).toThrow(/topK \(5\) only applies when sampling/);
    expect(() => validateGenerationConfig({ numBeams: 4, numReturnSequences: 8 })).toThrow(
      /generate: numReturnSequences must be at most numBeams \(4\), got 8/,
    );
    expect(() => validateGenerationConfig({ topP: 0.5 })).toThrow(
      /generate: topP \(0.5\) only applies/,
    );
    expect(() =>
      validateGenerationConfig({ doSample: true, topP: 0.5, maxNewTokens: 4 }),
    ).not.toThrow();
  });
});
