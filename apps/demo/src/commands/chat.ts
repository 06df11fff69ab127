import { createInterface } from 'node:readline';
import type { ChatMessage } from '@llmkit/tokenizer';
import { chooseBackend } from '../backend.js';
import { CliError } from '../cli-error.js';
import { integerFlag, numberFlag, parseFlags, seedFlag } from '../flags.js';
import { openChatModel, streamText } from '../serve/chat-model.js';

export const CHAT_HELP = `usage: llmkit chat --model DIR [--system TEXT] [--max-new-tokens N] [--temperature T] [--top-p P]
                  [--seed N] [--max-positions N] [--backend NAME]

Chats with a model in the terminal: each line you type is a user turn; the reply streams as it is
generated, rendered with the model's chat template. An empty line or Ctrl-D ends the chat.
  --model DIR           a Hugging Face folder (tokenizer.json with tokenizer_config.json's chat
                        template) or a llmkit train / finetune run folder
  --system TEXT         a system message first
  --max-new-tokens N    tokens per reply (default 256)
  --temperature T       sampling temperature; 0 is greedy (default 0.7)
  --top-p P             nucleus sampling (default 0.9)
  --seed N              seed of the sampler (default 1337)
  --max-positions N     cap on the context length of large models (default 4096)
  --backend NAME        cpu (native, the default when it builds here), js (reference) or webgpu`;

/** `llmkit chat`. */
export async function chat(args: string[]): Promise<void> {
  const { values } = parseFlags('chat', args, {
    model: { type: 'string' },
    system: { type: 'string' },
    'max-new-tokens': { type: 'string', default: '256' },
    temperature: { type: 'string', default: '0.7' },
    'top-p': { type: 'string', default: '0.9' },
    seed: { type: 'string', default: '1337' },
    'max-positions': { type: 'string', default: '4096' },
    backend: { type: 'string' },
    help: { type: 'boolean', default: false },
  });
  if (values.help) return console.log(CHAT_HELP);
  if (!values.model)
    throw new CliError('--model DIR is required (a Hugging Face folder or a llmkit run folder)');
  const maxNewTokens = integerFlag('max-new-tokens', values['max-new-tokens']);
  const temperature = numberFlag('temperature', values.temperature);
  if (temperature < 0) throw new CliError(`--temperature ${temperature}: expected a number >= 0`);
  const topP = numberFlag('top-p', values['top-p'], true);
  const seed = seedFlag(values.seed);
  await chooseBackend(values.backend);
  const model = await openChatModel(
    values.model,
    integerFlag('max-positions', values['max-positions']),
  );
  const messages: ChatMessage[] = values.system ? [{ role: 'system', content: values.system }] : [];
  const lines = createInterface({ input: process.stdin, terminal: process.stdin.isTTY });
  const interactive = process.stdin.isTTY;
  if (interactive) process.stdout.write('> ');
  for await (const line of lines) {
    if (line.trim() === '') break;
    messages.push({ role: 'user', content: line });
    const ids = model.encode(model.renderChat(messages));
    const reply = await streamText(
      model,
      ids,
      {
        maxNewTokens: Math.min(maxNewTokens, model.model.config.blockSize - ids.length),
        ...(temperature > 0 ? { doSample: true, temperature, topP, seed } : {}),
      },
      (piece) => process.stdout.write(piece),
    );
    process.stdout.write('\n');
    messages.push({ role: 'assistant', content: reply });
    if (interactive) process.stdout.write('> ');
  }
  lines.close();
}
