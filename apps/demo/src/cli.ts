#!/usr/bin/env node
/**
 * The `llmkit` command. Subcommands:
 *   llmkit tokenize [--encoding NAME] TEXT   print the token ids and pieces of TEXT
 *   llmkit demo                              the quick-start job (a tokenizer tour until the trainer lands)
 */
import { parseArgs } from 'node:util';
import { ENCODING_NAMES, type EncodingName, getEncoding, trainBpe } from '@llmkit/tokenizer';
import { readBundledText } from './bundled-text.js';

const HELP = `usage: llmkit <command> [options]

commands:
  tokenize [--encoding NAME] TEXT   token ids and pieces of TEXT (encodings: ${ENCODING_NAMES.join(', ')})
  demo                              train a BPE vocabulary on the repository's Markdown and show it at work
  --help                            this text`;

function tokenize(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    options: { encoding: { type: 'string', default: 'cl100k_base' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log('usage: llmkit tokenize [--encoding NAME] TEXT');
    return;
  }
  const encoding = getEncoding(values.encoding as EncodingName);
  const ids = encoding.encode(positionals.join(' '));
  console.log(`${ids.length} tokens (${encoding.name})`);
  for (const id of ids)
    console.log(`${String(id).padStart(7)}  ${JSON.stringify(encoding.decode([id]))}`);
}

function demo(): void {
  const text = readBundledText();
  const started = performance.now();
  const trained = trainBpe(text, { vocabSize: 1024, name: 'llmkit-docs' });
  const seconds = (performance.now() - started) / 1000;
  const sentence = 'llmkit tokenizes text with byte-level BPE, in Node.js or a browser.';
  const ids = trained.encode(sentence);
  const cl100k = getEncoding('cl100k_base').encode(sentence);
  console.log(
    `trained a 1,024-token BPE vocabulary on ${text.length.toLocaleString()} characters of the repository's Markdown in ${seconds.toFixed(2)} s`,
  );
  console.log(`"${sentence}"`);
  console.log(
    `  trained vocabulary: ${ids.length} tokens: ${ids.map((id) => JSON.stringify(trained.decode([id]))).join(' ')}`,
  );
  console.log(`  cl100k_base:        ${cl100k.length} tokens: ${cl100k.join(' ')}`);
  console.log(`  round trip exact:   ${trained.decode(ids) === sentence}`);
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === 'tokenize') tokenize(rest);
  else if (command === 'demo') demo();
  else {
    console.log(HELP);
    if (command && command !== '--help') process.exitCode = 1;
  }
} catch (error) {
  console.error(`llmkit: ${(error as Error).message}`);
  process.exitCode = 1;
}
