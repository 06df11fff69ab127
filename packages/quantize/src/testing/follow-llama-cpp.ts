// Shared by the opt-in llama.cpp test (gguf.test.ts) and `pnpm bench quantize`: where llama.cpp's
// greedy continuation parts from llmkit's. Not part of the public API (no export in index.ts;
// the bench imports it from dist/testing).
import { noGrad } from '@llmkit/core-tensor';
import type { GPT } from '@llmkit/transformer';

/** The part of a node-llama-cpp context this needs: fresh sequences that evaluate token ids. */
export interface LlamaCppContext {
  /** A fresh sequence. */
  getSequence(): {
    /** Greedy (temperature 0) continuation of `tokens`, a token at a time. */
    evaluate(tokens: number[], options: object): AsyncIterable<number>;
    /** Frees the sequence. */
    dispose(): void;
  };
}

/** Where the two continuations parted. */
export interface Partings {
  /** Index of the first parting in `mine` (-1: none). */
  first: number;
  /** Each parting's index in `mine`. */
  at: number[];
  /** At each parting, llmkit's logit of its own token minus that of llama.cpp's token. */
  margins: number[];
}

/**
 * Feeds `prompt` and llmkit's greedy continuation `mine` to llama.cpp: at each parting records
 * llmkit's logit margin of its own token over llama.cpp's, then lets llama.cpp continue from
 * llmkit's token, to the end of `mine`.
 */
export async function followLlamaCpp(
  model: Pick<GPT, 'forward'>,
  context: LlamaCppContext,
  prompt: number[],
  mine: number[],
): Promise<Partings> {
  const result: Partings = { first: -1, at: [], margins: [] };
  let at = 0;
  while (at < mine.length) {
    const sequence = context.getSequence();
    const theirs: number[] = [];
    for await (const token of sequence.evaluate([...prompt, ...mine.slice(0, at)], {
      temperature: 0,
      yieldEogToken: true,
    })) {
      theirs.push(token);
      if (theirs.length === mine.length - at) break;
    }
    sequence.dispose();
    const part = theirs.findIndex((id, i) => id !== mine[at + i]);
    if (part < 0) break;
    at += part;
    if (result.first < 0) result.first = at;
    const logits = noGrad(
      () => model.forward([[...prompt, ...mine.slice(0, at)]], { lastOnly: true }).logits,
    );
    const row = await logits.data<Float32Array>();
    logits.dispose();
    result.at.push(at);
    result.margins.push(row[mine[at]] - row[theirs[part]]);
    at++;
  }
  return result;
}
