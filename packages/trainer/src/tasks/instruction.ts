// Instruction tuning data: prompt/response records rendered with a chat template, tokenized so the
// loss covers only the assistant's reply.
import { applyChatTemplate, type ChatMessage, PLAIN_TEMPLATE } from '@llmkit/tokenizer';
import { ExampleBatches, instructionExample, type SupervisedExample } from '../data/examples.js';
import type { Split } from '../data/source.js';
import { TrainerError } from '../errors.js';

/** One instruction-tuning record. */
export interface InstructionRecord {
  /** What the user asks. */
  prompt: string;
  /** The reply the model should learn. */
  response: string;
  /** An optional system message before the prompt. */
  system?: string;
}

/** How records become token ids. */
export interface InstructionFormat {
  /** Text to token ids (for a BPE encoding with special tokens, allow them here). */
  encode: (text: string) => number[];
  /** A Hugging Face chat template (Jinja). Default `PLAIN_TEMPLATE` ("User: ...\nAssistant: ..."). */
  template?: string;
  /** Appended to every response and learned, so generation knows where to stop. */
  eosTokenId?: number;
  /** Further template variables (`bos_token`, `eos_token`...). */
  variables?: Record<string, unknown>;
}

/**
 * Renders a record with the chat template: `prompt` is the conversation up to and including the
 * opening of the assistant's turn (`addGenerationPrompt`), `response` the rest of the full
 * conversation. Their concatenation is exactly the template's rendering of the whole exchange.
 *
 * @example
 * ```ts
 * renderInstruction({ prompt: 'Hi', response: 'Hello!' });
 * // { prompt: 'User: Hi\nAssistant:', response: ' Hello!\n' }
 * ```
 */
export function renderInstruction(
  record: InstructionRecord,
  options: Pick<InstructionFormat, 'template' | 'variables'> = {},
): { prompt: string; response: string } {
  const template = options.template ?? PLAIN_TEMPLATE;
  const messages: ChatMessage[] = [];
  if (record.system !== undefined) messages.push({ role: 'system', content: record.system });
  messages.push({ role: 'user', content: record.prompt });
  const prompt = applyChatTemplate(messages, template, {
    addGenerationPrompt: true,
    variables: options.variables,
  });
  const full = applyChatTemplate(
    [...messages, { role: 'assistant', content: record.response }],
    template,
    {
      variables: options.variables,
    },
  );
  if (!full.startsWith(prompt) || full.length === prompt.length) {
    throw new TrainerError(
      'invalid_data',
      `renderInstruction: the template's generation prompt ${JSON.stringify(prompt.slice(-40))} is not a prefix of the rendered exchange ${JSON.stringify(full.slice(0, 80))}; expected a template whose add_generation_prompt opens the assistant turn`,
    );
  }
  return { prompt, response: full.slice(prompt.length) };
}

/**
 * Turns a record into a supervised example whose labels mask the rendered prompt (IGNORE_INDEX)
 * and keep the response (and the end token). Prompt and response are tokenized separately, so
 * no token straddles the boundary.
 *
 * @example
 * ```ts
 * const example = instructionExampleFromRecord({ prompt: 'Hi', response: 'Hello!' }, { encode: (t) => tokenizer.encode(t), eosTokenId: 0 });
 * ```
 */
export function instructionExampleFromRecord(
  record: InstructionRecord,
  format: InstructionFormat,
): SupervisedExample {
  const { prompt, response } = renderInstruction(record, format);
  return instructionExample(format.encode(prompt), format.encode(response), {
    eosTokenId: format.eosTokenId,
  });
}

/**
 * Shuffled, padded instruction-tuning batches from records: render, tokenize, mask the prompt.
 *
 * @example
 * ```ts
 * const data = instructionBatches({ train, validation }, { encode: (t) => tokenizer.encode(t), batchSize: 8, padTokenId: 0 });
 * const trainer = new Trainer({ model, loss: causalLanguageModelLoss, data, config: { maxSteps: 200 } });
 * ```
 */
export function instructionBatches(
  records: Record<Split, readonly InstructionRecord[]>,
  options: InstructionFormat & {
    batchSize: number;
    padTokenId: number;
    maxLength?: number;
    seed?: number;
  },
): ExampleBatches {
  const examples = (split: Split) =>
    records[split].map((r, i) => {
      try {
        return instructionExampleFromRecord(r, options);
      } catch (error) {
        throw new TrainerError(
          'invalid_data',
          `instructionBatches: ${split} record ${i}: ${(error as Error).message}`,
        );
      }
    });
  return new ExampleBatches(
    { train: examples('train'), validation: examples('validation') },
    options,
  );
}

/**
 * Reads JSON lines of `{ "prompt", "response", "system"? }` records (Alpaca's `instruction`,
 * `input` and `output` fields are accepted too); `source` names the file in errors.
 *
 * @example
 * ```ts
 * parseInstructionRecords('{"prompt":"2+2?","response":"4"}\n'); // [{ prompt: '2+2?', response: '4' }]
 * ```
 */
export function parseInstructionRecords(text: string, source = 'input'): InstructionRecord[] {
  const out: InstructionRecord[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line);
    } catch {
      throw new TrainerError(
        'invalid_data',
        `${source} line ${i + 1}: not JSON: ${line.slice(0, 80)}`,
      );
    }
    const prompt =
      value.prompt ??
      (typeof value.instruction === 'string'
        ? value.input
          ? `${value.instruction}\n\n${value.input}`
          : value.instruction
        : undefined);
    const response = value.response ?? value.output;
    if (typeof prompt !== 'string' || typeof response !== 'string') {
      throw new TrainerError(
        'invalid_data',
        `${source} line ${i + 1}: expected string "prompt" and "response" fields (or Alpaca's "instruction" and "output"), got keys ${Object.keys(value).join(', ')}`,
      );
    }
    out.push({
      prompt,
      response,
      ...(typeof value.system === 'string' ? { system: value.system } : {}),
    });
  }
  if (out.length === 0) throw new TrainerError('invalid_data', `${source}: no records`);
  return out;
}
