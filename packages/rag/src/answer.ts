// Grounded answers: retrieve passages, fit as many as the token budget holds (in rank order; the
// first that does not fit whole is cut to the budget and ends the list), number them in a prompt,
// call any generate function, and return the answer with the sources it cited ("[2]", "[1, 3]").
import { RagError } from './errors.js';
import type { Passage, Retriever } from './hybrid/retriever.js';
import { throwIfAborted } from './progress.js';

/** Counts tokens; `decode` lets a passage be cut at a token boundary (an llmkit `Encoding` fits). */
export interface AnswerTokenizer {
  /** Token ids of a text. */
  encode(text: string): ArrayLike<number>;
  /** Token ids with special-token markers read as plain text; used instead of `encode` when present (an llmkit `Encoding` has it). */
  encodeOrdinary?(text: string): ArrayLike<number>;
  /** Text of token ids. */
  decode?(ids: number[]): string;
}

/** A numbered source given to the model, with where it lies in its document. */
export interface Citation extends Passage {
  /** Its number in the prompt: `[number]`. */
  number: number;
  /** Whether the passage was cut to fit the budget. */
  truncated: boolean;
}

/** Options of {@link answer}. */
export interface AnswerOptions {
  /** Finds passages for the question. */
  retriever: Retriever;
  /** Writes the answer from the prompt: an llmkit model, an HTTP completion call, any async function. */
  generate: (prompt: string, options: { signal?: AbortSignal }) => Promise<string>;
  /** Counts the tokens of the sources block. */
  tokenizer: AnswerTokenizer;
  /** Token budget of the sources block (passages and their headers). */
  maxContextTokens: number;
  /** Passages to retrieve before fitting. Default 8. */
  k?: number;
  /** Builds the prompt; the default asks for bracketed citations and "I don't know" when unsupported. */
  prompt?: (question: string, sourcesBlock: string) => string;
  /** Stops retrieval or generation. */
  signal?: AbortSignal;
}

/** What {@link answer} returns. */
export interface AnswerResult {
  /** The generated answer. */
  answer: string;
  /** Sources the answer cites, in order of first citation. */
  citations: Citation[];
  /** Every source that was in the prompt. */
  sources: Citation[];
  /** The prompt sent to `generate`. */
  prompt: string;
  /** Tokens of the sources block. */
  contextTokens: number;
}

/** The default prompt. */
export function defaultPrompt(question: string, sourcesBlock: string): string {
  return [
    'Answer the question using only the numbered sources below. Cite every source you use by its number in brackets, such as [1] or [2][3]. If the sources do not contain the answer, say that you do not know.',
    '',
    'Sources:',
    sourcesBlock,
    '',
    `Question: ${question}`,
    'Answer:',
  ].join('\n');
}

function sourceHeader(number: number, passage: Passage): string {
  const where =
    passage.sourceId !== undefined
      ? ` (${passage.sourceId}${passage.start !== undefined ? `, characters ${passage.start}-${passage.end}` : ''})`
      : '';
  return `[${number}]${where}\n`;
}

/** Cuts `text` to at most `budget` tokens, at a token boundary when the tokenizer can decode. */
function cutToTokens(text: string, budget: number, tokenizer: AnswerTokenizer): string {
  if (budget <= 0) return '';
  const ids = Array.from(tokenizer.encode(text));
  if (ids.length <= budget) return text;
  if (tokenizer.decode) {
    const cut = tokenizer.decode(ids.slice(0, budget)).replace(/\uFFFD+$/, '');
    if (text.startsWith(cut)) return cut;
  }
  // binary search on characters: the longest prefix within budget
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (tokenizer.encode(text.slice(0, middle)).length <= budget) low = middle;
    else high = middle - 1;
  }
  return text.slice(0, low);
}

/** Fits passages into the budget; returns the numbered sources and the block's text and size. */
export function fitPassages(
  passages: Passage[],
  tokenizer: AnswerTokenizer,
  maxContextTokens: number,
): { sources: Citation[]; block: string; tokens: number } {
  // passages are data: a "<|endoftext|>" in them is text, not a special token
  const original = tokenizer;
  if (original.encodeOrdinary) {
    tokenizer = {
      encode: (text) => original.encodeOrdinary!(text),
      ...(original.decode ? { decode: (ids: number[]) => original.decode!(ids) } : {}),
    };
  }
  const sources: Citation[] = [];
  const parts: string[] = [];
  let used = 0;
  for (const passage of passages) {
    const number = sources.length + 1;
    const header = sourceHeader(number, passage);
    const separator = parts.length > 0 ? '\n\n' : '';
    const overhead = tokenizer.encode(separator + header).length;
    const cost = overhead + tokenizer.encode(passage.text).length;
    if (used + cost <= maxContextTokens) {
      sources.push({ ...passage, number, truncated: false });
      parts.push(separator + header + passage.text);
      used += cost;
      continue;
    }
    // cut this one to what is left, if enough is left to be useful, and stop
    const left = maxContextTokens - used - overhead;
    if (left >= 16) {
      const text = cutToTokens(passage.text, left, tokenizer);
      if (text.length > 0) {
        const end = passage.start !== undefined ? passage.start + text.length : passage.end;
        sources.push({ ...passage, text, end, number, truncated: true });
        parts.push(separator + header.replace(/-\d+\)/, `-${end})`) + text);
        used += overhead + tokenizer.encode(text).length;
      }
    }
    break;
  }
  return { sources, block: parts.join(''), tokens: used };
}

/** The source numbers cited in a text: "[1]", "[2, 3]", "[4][5]". */
export function citedNumbers(text: string): number[] {
  const numbers: number[] = [];
  for (const match of text.matchAll(/\[(\d+(?:\s*,\s*\d+)*)\]/g)) {
    for (const part of match[1].split(',')) {
      const n = Number(part.trim());
      if (!numbers.includes(n)) numbers.push(n);
    }
  }
  return numbers;
}

/**
 * Answers a question from retrieved passages, citing them.
 *
 * @example
 * ```ts
 * const result = await answer('What raises lift?', {
 *   retriever, tokenizer: getEncoding('cl100k_base'), maxContextTokens: 1000,
 *   generate: async (prompt) => callYourModel(prompt),
 * });
 * result.citations.map((c) => [c.number, c.sourceId, c.start, c.end]);
 * ```
 */
export async function answer(question: string, options: AnswerOptions): Promise<AnswerResult> {
  if (!Number.isInteger(options.maxContextTokens) || options.maxContextTokens < 1) {
    throw new RagError(
      'invalid_config',
      `answer: maxContextTokens is ${options.maxContextTokens}, expected an integer >= 1`,
    );
  }
  throwIfAborted(options.signal, 'answer');
  const passages = await options.retriever(question, { k: options.k ?? 8, signal: options.signal });
  const { sources, block, tokens } = fitPassages(
    passages,
    options.tokenizer,
    options.maxContextTokens,
  );
  const prompt = (options.prompt ?? defaultPrompt)(question, block);
  throwIfAborted(options.signal, 'answer');
  const text = await options.generate(prompt, { signal: options.signal });
  const citations = citedNumbers(text).flatMap((n) => sources.filter((s) => s.number === n));
  return { answer: text, citations, sources, prompt, contextTokens: tokens };
}
