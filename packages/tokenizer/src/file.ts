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
    throw new TokenizerError('invalid_file', `encoding file: ${problems.join('; ')}`);
  const ranks: RankMap = parseTiktokenRanks(file.bpe_ranks);
  return new Encoding({
    name: file.name ?? 'trained',
    pattern: file.pat_str,
    ranks,
    specialTokens: file.special_tokens,
  });
}

type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');

function nodeModule<T>(id: string, caller: string): T {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  if (!get)
    throw new TokenizerError(
      'node_only',
      `${caller} needs Node's file system; in a browser use encodingToJSON / encodingFromJSON`,
    );
  return get(id) as T;
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same folder, fsync, rename, then
 * fsync of the folder, so a crash leaves either the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const fs = nodeModule<NodeFs>('node:fs', 'writeFileAtomic');
  const { dirname, basename, join } = nodeModule<NodePath>('node:path', 'writeFileAtomic');
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(temp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, path);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

/**
 * Saves an encoding to a JSON file, atomically (Node only).
 *
 * @example
 * ```ts
 * saveEncoding(trainBpe(text, { vocabSize: 4096 }), 'vocab.json');
 * const again = loadEncodingFile('vocab.json');
 * ```
 */
export function saveEncoding(encoding: Encoding, path: string): void {
  writeFileAtomic(path, JSON.stringify(encodingToJSON(encoding)));
}

/** Loads an encoding saved by {@link saveEncoding} (Node only). */
export function loadEncodingFile(path: string): Encoding {
  const fs = nodeModule<NodeFs>('node:fs', 'loadEncodingFile');
  let parsed: EncodingFile;
  try {
    parsed = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TokenizerError(
      'invalid_file',
      `loadEncodingFile: cannot read ${path}: ${(error as Error).message}`,
    );
  }
  return encodingFromJSON(parsed);
}
