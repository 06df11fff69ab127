// The generators `llmkit rag ask` can write answers with: an llmkit checkpoint (the --out folder of
// `llmkit train`, a character-level GPT) or an OpenAI-compatible chat completions server.
import type { AnswerTokenizer } from '@llmkit/rag';
import { getEncoding } from '@llmkit/tokenizer';
import { CliError } from '../cli-error.js';
import { generateText } from '../generate.js';
import { openLanguageModel } from '../run-folder.js';

/** What `answer()` needs from a generator, and how to budget its prompt. */
export interface Generator {
  /** Writes the answer from the prompt. */
  generate: (prompt: string, options: { signal?: AbortSignal }) => Promise<string>;
  /** Counts the prompt's tokens the way the model does (or close to it). */
  tokenizer: AnswerTokenizer;
  /** Default budget of the sources block. */
  maxContextTokens: number;
  /** Says what writes the answers, for the output. */
  description: string;
}

/** Characters as tokens: the budget of a character-level model. */
const characterCounter: AnswerTokenizer = { encode: (text) => Array.from(text, () => 0) };

/** A generator over a character-level checkpoint of `llmkit train` (greedy by default). */
export async function checkpointGenerator(
  dir: string,
  options: { maxNewTokens: number; temperature?: number; seed: number; questionLength: number },
): Promise<Generator> {
  const { model, tokenizer, blockSize } = await openLanguageModel(dir);
  const generate = async (prompt: string) => {
    // characters the model never saw are dropped from the prompt
    const ids: number[] = [];
    for (const c of prompt) {
      try {
        ids.push(...tokenizer.encode(c));
      } catch {}
    }
    const config =
      options.temperature === undefined
        ? { maxNewTokens: options.maxNewTokens }
        : {
            maxNewTokens: options.maxNewTokens,
            doSample: true,
            temperature: options.temperature,
            seed: options.seed,
          };
    // the model sees its last blockSize characters
    return generateText(model, tokenizer, blockSize, ids.length > 0 ? ids : [0], config);
  };
  return {
    generate,
    tokenizer: characterCounter,
    maxContextTokens: Math.max(64, blockSize - options.questionLength - 64),
    description: `the checkpoint ${dir} (a character model sees its last ${blockSize} characters; it rarely cites, so every source it was given is listed)`,
  };
}

/**
 * A generator over an OpenAI-compatible `POST {baseUrl}/chat/completions` (llama.cpp's server,
 * Ollama, vLLM): the prompt as one user message, greedy (temperature 0) unless told otherwise.
 */
export function httpGenerator(options: {
  baseUrl: string;
  model: string;
  maxNewTokens: number;
  temperature?: number;
}): Generator {
  if (!/^https?:\/\//.test(options.baseUrl))
    throw new CliError(
      `--generator ${options.baseUrl}: expected an http(s) URL of an OpenAI-compatible API, such as http://127.0.0.1:8080/v1`,
    );
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const apiKey = process.env.LLMKIT_GENERATOR_API_KEY;
  const generate = async (prompt: string, { signal }: { signal?: AbortSignal }) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: options.model,
          messages: [{ role: 'user', content: prompt }],
          max_tokens: options.maxNewTokens,
          temperature: options.temperature ?? 0,
        }),
        signal: signal ?? AbortSignal.timeout(300_000),
      });
    } catch (error) {
      throw new CliError(`--generator: POST ${url}: ${(error as Error).message}`);
    }
    if (!response.ok) {
      const body = (await response.text().catch(() => '')).slice(0, 200);
      throw new CliError(
        `--generator: POST ${url}: ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`,
      );
    }
    const json = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
    const text = json?.choices?.[0]?.message?.content;
    if (typeof text !== 'string')
      throw new CliError(`--generator: POST ${url}: the answer has no choices[0].message.content`);
    return text;
  };
  const encoding = getEncoding('cl100k_base');
  return {
    generate,
    tokenizer: encoding,
    maxContextTokens: 1000,
    description: `${options.model} at ${options.baseUrl}`,
  };
}
