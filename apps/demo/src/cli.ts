#!/usr/bin/env node
/**
 * The `llmkit` command: train, sample, finetune, eval, rag, tokenize, chat, serve, demo. Each subcommand has `--help`.
 * User mistakes (bad flags, missing files) print one line and exit with status 2.
 */
import { CliError } from './cli-error.js';
import { ALIGN_HELP, align } from './commands/align.js';
import { CHAT_HELP, chat } from './commands/chat.js';
import { DEMO_HELP, demo } from './commands/demo.js';
import { EVAL_HELP, evaluate } from './commands/eval.js';
import { FINETUNE_HELP, finetune } from './commands/finetune.js';
import { QUANTIZE_HELP, quantize } from './commands/quantize.js';
import { RAG_HELP, rag } from './commands/rag.js';
import { SAMPLE_HELP, sample } from './commands/sample.js';
import { SERVE_HELP, serve } from './commands/serve.js';
import { TOKENIZE_HELP, tokenize } from './commands/tokenize.js';
import { TRAIN_HELP, train } from './commands/train.js';

const COMMANDS: Record<string, { help: string; run: (args: string[]) => unknown }> = {
  train: { help: TRAIN_HELP, run: train },
  sample: { help: SAMPLE_HELP, run: sample },
  finetune: { help: FINETUNE_HELP, run: finetune },
  eval: { help: EVAL_HELP, run: evaluate },
  align: { help: ALIGN_HELP, run: align },
  quantize: { help: QUANTIZE_HELP, run: quantize },
  rag: { help: RAG_HELP, run: rag },
  tokenize: { help: TOKENIZE_HELP, run: tokenize },
  chat: { help: CHAT_HELP, run: chat },
  serve: { help: SERVE_HELP, run: serve },
  demo: { help: DEMO_HELP, run: demo },
};

const HELP = `usage: llmkit <command> [options]   (llmkit <command> --help for details)

commands:
${Object.entries(COMMANDS)
  .map(
    ([name, c]) =>
      `  ${name.padEnd(9)} ${c.help.split('\n').find((l) => l && !l.startsWith('usage') && !l.startsWith(' '))}`,
  )
  .join('\n')}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    console.log(HELP);
    return name && name !== '--help' && name !== 'help' ? 2 : 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (error) {
    const known = error instanceof CliError || (error as { code?: unknown }).code !== undefined;
    const detail =
      known && !process.env.LLMKIT_DEBUG ? (error as Error).message : (error as Error).stack;
    console.error(`llmkit ${name}: ${detail}`);
    return known ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
