import { parseArgs } from 'node:util';
import { ENCODING_NAMES, type EncodingName, getEncoding } from '@llmkit/tokenizer';

export const TOKENIZE_HELP = `usage: llmkit tokenize [--encoding NAME] TEXT

Prints the token ids of TEXT and the text of each token.
  --encoding NAME   one of ${ENCODING_NAMES.join(', ')} (default cl100k_base)`;

/** `llmkit tokenize`. */
export function tokenize(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    options: { encoding: { type: 'string', default: 'cl100k_base' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log(TOKENIZE_HELP);
    return;
  }
  const encoding = getEncoding(values.encoding as EncodingName);
  const ids = encoding.encode(positionals.join(' '));
  console.log(`${ids.length} tokens (${encoding.name})`);
  for (const id of ids)
    console.log(`${String(id).padStart(7)}  ${JSON.stringify(encoding.decode([id]))}`);
}
