import { resolve } from 'node:path';
import { validateGenerationConfig } from '@llmkit/sampling';
import { chooseBackend } from '../backend.js';
import { CliError } from '../cli-error.js';
import { flagName, numberFlag, parseFlags, seedFlag } from '../flags.js';
import { generateText } from '../generate.js';
import { openLanguageModel } from '../run-folder.js';
import { openChatModel, streamText } from '../serve/chat-model.js';

export const SAMPLE_HELP = `usage: llmkit sample (--checkpoint DIR | --model DIR) [--prompt TEXT] [--max-new-tokens N]
                    [--temperature T] [--top-k K] [--top-p P] [--greedy] [--seed N] [--backend NAME]

Generates text from a model trained with \`llmkit train\` (DIR is its --out folder, or the --out
folder of \`llmkit quantize\`), or from a Hugging Face model folder (GPT-2, Llama, Qwen:
config.json, model.safetensors, tokenizer.json), streaming it.
  --checkpoint DIR      the run folder (its newest checkpoint, or its model folder), or a
                        quantized model folder (llmkit quantize --out)
  --model DIR           a Hugging Face folder (or a run folder)
  --prompt TEXT         text to continue (default: a newline)
  --max-new-tokens N    characters to generate (default 500)
  --temperature T       sampling temperature (default 0.8)
  --top-k K             sample among the K most likely tokens (default 200)
  --top-p P             sample among the most likely tokens whose probabilities sum to P (default: off)
  --greedy              always take the most likely token instead of sampling
  --seed N              seed of the sampler (default 1337)
  --backend NAME        cpu (native, the default when it builds here), js (reference) or webgpu`;

/** `llmkit sample`. */
export async function sample(args: string[]): Promise<void> {
  const { values } = parseFlags('sample', args, {
    checkpoint: { type: 'string' },
    model: { type: 'string' },
    prompt: { type: 'string', default: '\n' },
    'max-new-tokens': { type: 'string', default: '500' },
    temperature: { type: 'string', default: '0.8' },
    'top-k': { type: 'string', default: '200' },
    'top-p': { type: 'string' },
    greedy: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1337' },
    backend: { type: 'string' },
    help: { type: 'boolean', default: false },
  });
  if (values.help) return console.log(SAMPLE_HELP);
  if (!values.checkpoint && !values.model)
    throw new CliError(
      '--checkpoint DIR (the --out folder of llmkit train) or --model DIR (a Hugging Face folder) is required',
    );
  if (values.checkpoint && values.model)
    throw new CliError('give --checkpoint DIR or --model DIR, not both');
  // the generation options, named as @llmkit/sampling names them, checked before any loading
  const config = {
    maxNewTokens: numberFlag('max-new-tokens', values['max-new-tokens']),
    ...(values.greedy
      ? {}
      : {
          doSample: true,
          temperature: numberFlag('temperature', values.temperature),
          topK: numberFlag('top-k', values['top-k']),
          ...(values['top-p'] === undefined ? {} : { topP: numberFlag('top-p', values['top-p']) }),
          seed: seedFlag(values.seed),
        }),
  };
  try {
    validateGenerationConfig(config);
  } catch (error) {
    // the library names its option (topK); say the flag (--top-k)
    throw new CliError(
      (error as Error).message.replace(/\b(maxNewTokens|temperature|topK|topP)\b/, (name) =>
        flagName(name),
      ),
    );
  }
  await chooseBackend(values.backend);
  if (values.model) {
    const chat = await openChatModel(values.model);
    const ids = chat.encode(values.prompt!);
    const maxNewTokens = Math.min(config.maxNewTokens, chat.model.config.blockSize - ids.length);
    await streamText(chat, ids, { ...config, maxNewTokens }, (piece) =>
      process.stdout.write(piece),
    );
    process.stdout.write('\n');
    return;
  }
  const { model, tokenizer, blockSize } = await openLanguageModel(
    resolve(values.checkpoint!),
    '--checkpoint',
    { quantized: true },
  );
  let promptIds: number[];
  try {
    promptIds = tokenizer.encode(values.prompt!);
  } catch (error) {
    throw new CliError(`--prompt: ${(error as Error).message}`);
  }
  await generateText(model, tokenizer, blockSize, promptIds, config, (piece) =>
    process.stdout.write(piece),
  );
  process.stdout.write('\n');
}
