import { nodeBuiltin, writeFileAtomicSync } from '@llmkit/utils';
import type { RankMap } from './bpe.js';
import { Encoding } from './encoding.js';
import { TokenizerError } from './errors.js';
import { parseTiktokenRanks } from './registry.js';

/**
 * The JSON file of a BPE vocabulary. Field names follow the `tiktoken` package's encoder files
 * (`pat_str`, `special_tokens`, `bpe_ranks` in its compact base64 form), so such a file also
 * loads in tiktoken: `new Tiktoken(file.bpe_ranks, file.special_tokens, file.pat_str)`.
 */
export interface EncodingFile {
  /** Always `"llmkit-bpe"`. */
  format: 'llmkit-bpe';
  /** Name of the encoding. */
  name: string;
  /** Pre-tokenizer pattern, tiktoken syntax. */
  pat_str: string;
  /** Special token strings to ids. */
  special_tokens: Record<string, number>;
  /** Ranks: `"! 0 <base64 of token 0> <base64 of token 1> ..."`. */
  bpe_ranks: string;
}

/** Serialises an encoding's vocabulary, pattern and special tokens to its JSON file form. */
export function encodingToJSON(encoding: Encoding): EncodingFile {
  const byRank: string[] = [];
  for (const [bytes, rank] of encoding.mergeableRanks()) byRank[rank] = btoa(bytes);
  // tiktoken's format: a line starts a run of consecutive ranks
  const lines: string[] = [];
  for (let start = 0; start < byRank.length; ) {
    if (byRank[start] === undefined) {
      start++;
      continue;
    }
    let end = start;
    while (end < byRank.length && byRank[end] !== undefined) end++;
    lines.push(`! ${start} ${byRank.slice(start, end).join(' ')}`);
    start = end;
  }
  return {
    format: 'llmkit-bpe',
    name: encoding.name,
    pat_str: encoding.pattern,
    special_tokens: { ...encoding.specialTokens },
    bpe_ranks: lines.join('\n'),
  };
}

/** Rebuilds an encoding from its JSON file form, checking the fields first. */
export function encodingFromJSON(file: EncodingFile): Encoding {
  const problems: string[] = [];
  if (file?.format !== 'llmkit-bpe')
    problems.push(`format is ${JSON.stringify(file?.format)}, expected "llmkit-bpe"`);
  if (typeof file?.pat_str !== 'string') problems.push('pat_str must be a string');
  if (typeof file?.bpe_ranks !== 'string') problems.push('bpe_ranks must be a string');
  if (typeof file?.special_tokens !== 'object' || file.special_tokens === null)
    problems.push('special_tokens must be an object');
  if (problems.length > 0)
    throw new TokenizerError('corrupt_file', `encoding file: ${problems.join('; ')}`);
  const ranks: RankMap = parseTiktokenRanks(file.bpe_ranks);
  return new Encoding({
    name: file.name ?? 'trained',
    pattern: file.pat_str,
    ranks,
    specialTokens: file.special_tokens,
  });
}

type NodeFs = typeof import('node:fs');

/**
 * Saves an encoding to a JSON file, atomically (@llmkit/utils' `writeFileAtomicSync`; Node only).
 *
 * @example
 * ```ts
 * saveEncoding(trainBpe(text, { vocabSize: 4096 }), 'vocab.json');
 * const again = loadEncodingFile('vocab.json');
 * ```
 */
export function saveEncoding(encoding: Encoding, path: string): void {
  writeFileAtomicSync(path, JSON.stringify(encodingToJSON(encoding)));
}

/** Loads an encoding saved by {@link saveEncoding} (Node only). */
export function loadEncodingFile(path: string): Encoding {
  const fs = nodeBuiltin<NodeFs>('node:fs', 'loadEncodingFile');
  let parsed: EncodingFile;
  try {
    parsed = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TokenizerError(
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'corrupt_file',
      `loadEncodingFile: cannot read ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return encodingFromJSON(parsed);
}
