// Hugging Face decoders: token strings back to text, each step a function from a list of token
// strings to a list (Rust's `decode_chain`), joined at the end. Supported: ByteLevel, Metaspace,
// WordPiece, ByteFallback, Fuse, Strip, Replace, BPEDecoder, Sequence.
import { TokenizerError } from '../errors.js';
import type { ComponentJson, PatternJson } from './json.js';
import { patternRegExp } from './normalizers.js';
import { BYTE_TO_CHAR } from './pre-tokenizers.js';

/** A decoder step. */
export type Decoder = (tokens: string[]) => string[];

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextDecoder('utf-8', { fatal: false });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** Hugging Face's `clean_up_tokenization`: no space before punctuation and English contractions. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Builds the decoder a tokenizer.json describes. */
export function createDecoder(json: ComponentJson): Decoder {
  switch (json.type) {
    case 'ByteLevel':
      return (tokens) => {
        const bytes: number[] = [];
        for (const token of tokens) {
          const mapped: number[] = [];
          let ok = true;
          for (const c of token) {
            const b = CHAR_TO_BYTE.get(c);
            if (b === undefined) {
              ok = false;
              break;
            }
            mapped.push(b);
          }
          // a token outside the byte alphabet (an added token) contributes its UTF-8 bytes
          bytes.push(...(ok ? mapped : new TextEncoder().encode(token)));
        }
        return [utf8.decode(Uint8Array.from(bytes))];
      };
    case 'Metaspace': {
      const replacement = String(json.replacement ?? '\u2581');
      const scheme =
        (json.prepend_scheme as string | undefined) ??
        (json.add_prefix_space === false ? 'never' : 'always');
      return (tokens) =>
        tokens.map((token, i) => {
          const text = token.replaceAll(replacement, ' ');
          return i === 0 && scheme !== 'never' && text.startsWith(' ') ? text.slice(1) : text;
        });
    }
    case 'WordPiece': {
      const prefix = String(json.prefix ?? '##');
      const cleanup = json.cleanup !== false;
      return (tokens) =>
        tokens.map((token, i) => {
          let text =
            i > 0 ? (token.startsWith(prefix) ? token.slice(prefix.length) : ` ${token}`) : token;
          if (cleanup) text = cleanUpTokenization(text);
          return text;
        });
    }
    case 'ByteFallback':
      return (tokens) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = () => {
          if (bytes.length === 0) return;
          try {
            out.push(strictUtf8.decode(Uint8Array.from(bytes)));
          } catch {
            for (let k = 0; k < bytes.length; k++) out.push('\ufffd');
          }
          bytes = [];
        };
        for (const token of tokens) {
          const m = BYTE_TOKEN.exec(token);
          if (m) bytes.push(Number.parseInt(m[1], 16));
          else {
            flush();
            out.push(token);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const content = String(json.content ?? ' ');
      const start = Number(json.start ?? 0);
      const stop = Number(json.stop ?? 0);
      return (tokens) =>
        tokens.map((token) => {
          let from = 0;
          let to = token.length;
          for (let k = 0; k < start && token.startsWith(content, from); k++) from += content.length;
          for (
            let k = 0;
            k < stop &&
            to - content.length >= from &&
            token.startsWith(content, to - content.length);
            k++
          )
            to -= content.length;
          return token.slice(from, to);
        });
    }
    case 'Replace': {
      const pattern = patternRegExp(json.pattern as PatternJson, 'Replace decoder');
      const content = String(json.content ?? '');
      return (tokens) => tokens.map((token) => token.replace(pattern, content));
    }
    case 'BPEDecoder': {
      const suffix = String(json.suffix ?? '</w>');
      return (tokens) =>
        tokens.map((token, i) => token.replaceAll(suffix, i === tokens.length - 1 ? '' : ' '));
    }
    case 'Sequence': {
      const parts = ((json.decoders as ComponentJson[]) ?? []).map(createDecoder);
      return (tokens) => parts.reduce((t, decode) => decode(t), tokens);
    }
    default:
      throw new TokenizerError(
        'unsupported',
        `tokenizer.json: decoder type ${JSON.stringify(json.type)} is not supported; supported: ByteLevel, Metaspace, WordPiece, ByteFallback, Fuse, Strip, Replace, BPEDecoder, Sequence`,
      );
  }
}
