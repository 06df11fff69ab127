import { TokenizerError } from '../errors.js';
import type { TokenizerConfigJson, TokenizerJson } from './json.js';
import { Tokenizer } from './tokenizer.js';

/**
 * Loads a Hugging Face tokenizer (Node only): a model folder holding tokenizer.json (and
 * optionally tokenizer_config.json), or the path of a tokenizer.json itself.
 *
 * @example
 * ```ts
 * const tokenizer = await loadTokenizer('models/TinyLlama-1.1B-Chat');
 * tokenizer.decode(tokenizer.encode('Hello')); // '<s> Hello' with special tokens kept
 * ```
 */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  const fs = await import('node:fs/promises');
  const { basename, dirname, join } = await import('node:path');
  const stat = await fs.stat(path).catch(() => null);
  if (!stat) throw new TokenizerError('not_found', `loadTokenizer: ${path} does not exist`);
  const folder = stat.isDirectory() ? path : dirname(path);
  const file = stat.isDirectory() ? join(path, 'tokenizer.json') : path;
  const read = async (p: string) => {
    const text = await fs.readFile(p, 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new TokenizerError(
        'corrupt_file',
        `loadTokenizer: ${p} is not valid JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
  const json = (await read(file)) as TokenizerJson | null;
  if (!json)
    throw new TokenizerError(
      'not_found',
      `loadTokenizer: no tokenizer.json in ${folder} (a Hugging Face model folder has one; sentencepiece-only .model files are not supported)`,
    );
  const config =
    basename(file) === 'tokenizer.json'
      ? ((await read(join(folder, 'tokenizer_config.json'))) as TokenizerConfigJson | null)
      : null;
  return new Tokenizer(json, config ?? {});
}
