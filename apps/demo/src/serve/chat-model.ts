// The model behind `llmkit chat` and `llmkit serve`: a Hugging Face folder (config.json,
// safetensors, tokenizer.json, tokenizer_config.json with its chat template) or the output
// folder of `llmkit train` / `finetune` (a character tokenizer, rendered with a plain template).
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  applyChatTemplate,
  type ChatMessage,
  loadTokenizer,
  PLAIN_TEMPLATE,
} from '@llmkit/tokenizer';
import { type GenerateOptions, type GPT, loadPretrained } from '@llmkit/transformer';
import { CliError } from '../cli-error.js';
import { openLanguageModel } from '../run-folder.js';

/** A loaded model with what chatting needs around it. */
export interface ChatModel {
  /** The id clients name it by (the folder's name). */
  name: string;
  model: GPT;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** The prompt for a conversation, ending with the opening of the assistant's turn. */
  renderChat(messages: readonly ChatMessage[]): string;
  /** Ids that end a turn (eos, `<|im_end|>`, `<|eot_id|>` where the vocabulary has them). */
  stopTokenIds: number[];
  /** Bytes of the weights (float32). */
  weightBytes: number;
}

function weightBytes(model: GPT): number {
  let bytes = 0;
  for (const t of Object.values(model.stateDict())) bytes += t.size * 4;
  return bytes;
}

/**
 * Opens `dir` as a chat model; `maxPositions` caps the context of large Hugging Face models.
 *
 * @example
 * const chat = await openChatModel('models/SmolLM2-135M-Instruct', 4096);
 */
export async function openChatModel(dir: string, maxPositions = 4096): Promise<ChatModel> {
  const path = resolve(dir);
  if (!existsSync(path)) throw new CliError(`--model ${dir}: no such folder`);
  if (existsSync(join(path, 'tokenizer.json'))) {
    const tokenizer = await loadTokenizer(path);
    const model = await loadPretrained(path, { maxPositions });
    const stopTokenIds = [
      tokenizer.eosToken,
      '<|im_end|>',
      '<|eot_id|>',
      '<|endoftext|>',
      '<end_of_turn>',
      '</s>',
    ]
      .map((t) => (t ? tokenizer.tokenToId(t) : undefined))
      .filter((id): id is number => id !== undefined);
    const hasTemplate = tokenizer.config.chat_template !== undefined;
    return {
      name: basename(path),
      model,
      encode: (text) => tokenizer.encode(text, { addSpecialTokens: false }),
      decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      renderChat: (messages) =>
        hasTemplate
          ? tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })
          : applyChatTemplate(messages, PLAIN_TEMPLATE, { addGenerationPrompt: true }),
      stopTokenIds: [...new Set(stopTokenIds)],
      weightBytes: weightBytes(model),
    };
  }
  if (existsSync(join(path, 'run.json'))) {
    const { model, tokenizer } = await openLanguageModel(path, '--model');
    return {
      name: basename(path),
      model,
      encode: (text) => tokenizer.encode(text),
      decode: (ids) => tokenizer.decode([...ids]),
      renderChat: (messages) =>
        applyChatTemplate(messages, PLAIN_TEMPLATE, { addGenerationPrompt: true }),
      stopTokenIds: [],
      weightBytes: weightBytes(model),
    };
  }
  throw new CliError(
    `--model ${dir}: neither a Hugging Face folder (tokenizer.json, config.json, model.safetensors) nor a llmkit run folder (run.json)`,
  );
}

/**
 * Generates a continuation of `ids`, calling `onText` with each new piece of text as soon as it
 * decodes to whole characters; ends at a stop token (not included). Returns the whole text.
 *
 * @example
 * await streamText(chat, chat.encode('Once'), { maxNewTokens: 20 }, (piece) => process.stdout.write(piece));
 */
export async function streamText(
  chat: ChatModel,
  ids: number[],
  options: GenerateOptions,
  onText: (piece: string) => void,
): Promise<string> {
  const generated: number[] = [];
  let shown = 0;
  const stream = chat.model.stream([ids], {
    ...options,
    ...(chat.stopTokenIds.length ? { eosTokenId: chat.stopTokenIds } : {}),
  });
  for await (const event of stream) {
    if (chat.stopTokenIds.includes(event.token)) break;
    generated.push(event.token);
    const text = chat.decode(generated);
    const safe = text.endsWith('\ufffd') ? text.length - 1 : text.length;
    if (safe > shown) onText(text.slice(shown, safe));
    shown = Math.max(shown, safe);
  }
  const text = chat.decode(generated);
  if (text.length > shown) onText(text.slice(shown));
  return text;
}
