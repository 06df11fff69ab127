import type { RankMap } from './bpe.js';
import { Encoding } from './encoding.js';
import { TokenizerError } from './errors.js';

/** Names of the OpenAI encodings {@link getEncoding} knows. */
export type EncodingName =
  | 'gpt2'
  | 'r50k_base'
  | 'p50k_base'
  | 'p50k_edit'
  | 'cl100k_base'
  | 'o200k_base';

/** The encodings, in the order error messages list them. */
export const ENCODING_NAMES: readonly EncodingName[] = [
  'gpt2',
  'r50k_base',
  'p50k_base',
  'p50k_edit',
  'cl100k_base',
  'o200k_base',
];

/** The shape of the `tiktoken` package's `encoders/*.json` files. */
interface TiktokenEncoderFile {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

// r50k_base has the same ranks, pattern and specials as gpt2; tiktoken ships one file for both.
const FILE_OF: Record<EncodingName, string> = {
  gpt2: 'gpt2',
  r50k_base: 'gpt2',
  p50k_base: 'p50k_base',
  p50k_edit: 'p50k_edit',
  cl100k_base: 'cl100k_base',
  o200k_base: 'o200k_base',
};

const loaded = new Map<EncodingName, Encoding>();

function checkName(name: string): EncodingName {
  if (!(ENCODING_NAMES as readonly string[]).includes(name)) {
    throw new TokenizerError(
      'unknown_encoding',
      `unknown encoding ${JSON.stringify(name)}; expected one of ${ENCODING_NAMES.join(', ')}`,
    );
  }
  return name as EncodingName;
}

/**
 * Parses tiktoken's compact rank format: lines of `<sep> <first rank> <base64 token>...`, the
 * tokens of a line having consecutive ranks from the first.
 */
export function parseTiktokenRanks(data: string): RankMap {
  const ranks: RankMap = new Map();
  for (const line of data.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    let rank = Number(fields[1]);
    for (let i = 2; i < fields.length; i++) ranks.set(atob(fields[i]), rank++);
  }
  return ranks;
}

function fromFile(name: EncodingName, file: TiktokenEncoderFile): Encoding {
  return new Encoding({
    name,
    pattern: file.pat_str,
    ranks: parseTiktokenRanks(file.bpe_ranks),
    specialTokens: file.special_tokens,
  });
}

/**
 * Returns an OpenAI encoding, loading its ranks on first use (from the `tiktoken` package's
 * encoder files, one encoding at a time). Synchronous in Node; in a browser, call
 * {@link loadEncoding} once first (or use it instead).
 *
 * @example
 * ```ts
 * getEncoding('o200k_base').encode('hello world'); // [24912, 2375]
 * ```
 */
export function getEncoding(name: EncodingName): Encoding {
  const checked = checkName(name);
  const cached = loaded.get(checked);
  if (cached) return cached;
  const moduleApi = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:module') as
    | { createRequire(url: string): (id: string) => unknown }
    | undefined;
  if (!moduleApi) {
    throw new TokenizerError(
      'encoding_not_loaded',
      `getEncoding('${checked}'): ranks can only be loaded synchronously in Node; call await loadEncoding('${checked}') first`,
    );
  }
  const require = moduleApi.createRequire(import.meta.url);
  const file = require(`tiktoken/encoders/${FILE_OF[checked]}.json`) as TiktokenEncoderFile;
  const encoding = fromFile(checked, file);
  loaded.set(checked, encoding);
  return encoding;
}

/** Loads an OpenAI encoding asynchronously; works in browsers and bundlers as well as Node. */
export async function loadEncoding(name: EncodingName): Promise<Encoding> {
  const checked = checkName(name);
  const cached = loaded.get(checked);
  if (cached) return cached;
  const encoding = fromFile(checked, await importEncoderFile(FILE_OF[checked]));
  loaded.set(checked, encoding);
  return encoding;
}

// One literal import per file, so bundlers split each encoding into its own chunk.
async function importEncoderFile(file: string): Promise<TiktokenEncoderFile> {
  type Loaded = { default: TiktokenEncoderFile };
  // the package's typings declare `export default`; at run time Node gives module.exports as default
  switch (file) {
    case 'gpt2':
      return ((await import('tiktoken/encoders/gpt2')) as unknown as Loaded).default;
    case 'p50k_base':
      return ((await import('tiktoken/encoders/p50k_base')) as unknown as Loaded).default;
    case 'p50k_edit':
      return ((await import('tiktoken/encoders/p50k_edit')) as unknown as Loaded).default;
    case 'cl100k_base':
      return ((await import('tiktoken/encoders/cl100k_base')) as unknown as Loaded).default;
    default:
      return ((await import('tiktoken/encoders/o200k_base')) as unknown as Loaded).default;
  }
}

// Model names to encodings, as tiktoken's `encoding_for_model` (exact names, then prefixes).
const MODEL_PREFIXES: [string, EncodingName][] = [
  ['o1', 'o200k_base'],
  ['o3', 'o200k_base'],
  ['o4', 'o200k_base'],
  ['gpt-5', 'o200k_base'],
  ['gpt-4.1', 'o200k_base'],
  ['gpt-4.5', 'o200k_base'],
  ['gpt-4o', 'o200k_base'],
  ['chatgpt-4o', 'o200k_base'],
  ['gpt-oss', 'o200k_base'],
  ['gpt-4', 'cl100k_base'],
  ['gpt-3.5-turbo', 'cl100k_base'],
  ['gpt-35-turbo', 'cl100k_base'],
  ['ft:gpt-4o', 'o200k_base'],
  ['ft:gpt-4', 'cl100k_base'],
  ['ft:gpt-3.5-turbo', 'cl100k_base'],
  ['ft:davinci-002', 'cl100k_base'],
  ['ft:babbage-002', 'cl100k_base'],
];

const MODELS: Record<string, EncodingName> = {
  'davinci-002': 'cl100k_base',
  'babbage-002': 'cl100k_base',
  'text-embedding-ada-002': 'cl100k_base',
  'text-embedding-3-small': 'cl100k_base',
  'text-embedding-3-large': 'cl100k_base',
  'text-davinci-003': 'p50k_base',
  'text-davinci-002': 'p50k_base',
  'code-davinci-002': 'p50k_base',
  'code-davinci-001': 'p50k_base',
  'code-cushman-002': 'p50k_base',
  'code-cushman-001': 'p50k_base',
  'davinci-codex': 'p50k_base',
  'cushman-codex': 'p50k_base',
  'text-davinci-edit-001': 'p50k_edit',
  'code-davinci-edit-001': 'p50k_edit',
  'text-davinci-001': 'r50k_base',
  'text-curie-001': 'r50k_base',
  'text-babbage-001': 'r50k_base',
  'text-ada-001': 'r50k_base',
  davinci: 'r50k_base',
  curie: 'r50k_base',
  babbage: 'r50k_base',
  ada: 'r50k_base',
  gpt2: 'gpt2',
  'gpt-2': 'gpt2',
};

/** The encoding name a model uses, as tiktoken's `encoding_for_model`. */
export function encodingNameForModel(model: string): EncodingName {
  const exact = MODELS[model];
  if (exact) return exact;
  let best: [string, EncodingName] | undefined;
  for (const entry of MODEL_PREFIXES) {
    if (model.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  if (best) return best[1];
  throw new TokenizerError(
    'unknown_model',
    `no encoding is known for model ${JSON.stringify(model)}; use getEncoding with one of ${ENCODING_NAMES.join(', ')}`,
  );
}

/**
 * The encoding a model uses: `encodingForModel('gpt-4o')` is `o200k_base`.
 *
 * @example
 * ```ts
 * encodingForModel('gpt-4').name; // 'cl100k_base'
 * ```
 */
export function encodingForModel(model: string): Encoding {
  return getEncoding(encodingNameForModel(model));
}
