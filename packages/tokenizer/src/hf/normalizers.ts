// Hugging Face normalizers: functions from a piece to a piece (see piece.ts for offsets).
// Supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend,
// BertNormalizer, Sequence. Not supported: Precompiled (sentencepiece's compiled charsmap, used
// by T5 / ALBERT), Nmt: they throw `unsupported` when the file is loaded.
import { TokenizerError } from '../errors.js';
import type { ComponentJson, PatternJson } from './json.js';
import { compileOniguruma } from './regex.js';
import { mapChars, type Piece, prependText, replaceMatches, transformText } from './piece.js';

/** A normalizer: one piece in, one piece out. */
export type Normalizer = (piece: Piece) => Piece;

/** The RegExp (global) for a `pattern` field; strings match literally. */
export function patternRegExp(pattern: PatternJson, where: string): RegExp {
  if ('String' in pattern)
    return new RegExp(pattern.String.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'gu');
  if ('Regex' in pattern) return compileOniguruma(pattern.Regex, where);
  throw new TokenizerError(
    'unsupported',
    `${where}: pattern ${JSON.stringify(pattern)} is neither String nor Regex`,
  );
}

const isControl = (c: string) =>
  /^[\p{Cc}\p{Cf}]$/u.test(c) && c !== '\t' && c !== '\n' && c !== '\r';
const isWhitespace = (c: string) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || /^\p{Zs}$/u.test(c);
// CJK ideograph blocks, as BERT's tokenizer (`_is_chinese_char`) lists them
function isChineseChar(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x20000 && code <= 0x2a6df) ||
    (code >= 0x2a700 && code <= 0x2b73f) ||
    (code >= 0x2b740 && code <= 0x2b81f) ||
    (code >= 0x2b820 && code <= 0x2ceaf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x2f800 && code <= 0x2fa1f)
  );
}

const stripAccents: Normalizer = (piece) =>
  mapChars(
    transformText(piece, (t) => t.normalize('NFD')),
    (c) => (/^\p{Mn}$/u.test(c) ? '' : c),
  );

/** Builds the normalizer a tokenizer.json describes. */
export function createNormalizer(json: ComponentJson): Normalizer {
  switch (json.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = json.type;
      return (piece) => transformText(piece, (t) => t.normalize(form));
    }
    case 'Lowercase':
      return (piece) => mapChars(piece, (c) => c.toLowerCase());
    case 'StripAccents':
      return stripAccents;
    case 'Strip': {
      const left = json.left !== false;
      const right = json.right !== false;
      return (piece) => {
        const { text } = piece;
        let start = 0;
        let end = text.length;
        if (left) while (start < end && /\s/u.test(text[start])) start++;
        if (right) while (end > start && /\s/u.test(text[end - 1])) end--;
        return {
          text: text.slice(start, end),
          offsets: piece.offsets ? piece.offsets.slice(2 * start, 2 * end) : null,
        };
      };
    }
    case 'Replace': {
      const pattern = patternRegExp(json.pattern as PatternJson, 'Replace normalizer');
      const content = String(json.content ?? '');
      return (piece) => replaceMatches(piece, pattern, content);
    }
    case 'Prepend': {
      const prefix = String(json.prepend ?? '');
      // Hugging Face prepends only to a non-empty string
      return (piece) => (piece.text.length === 0 ? piece : prependText(piece, prefix));
    }
    case 'BertNormalizer': {
      const cleanText = json.clean_text !== false;
      const chinese = json.handle_chinese_chars !== false;
      const lowercase = json.lowercase !== false;
      // strip_accents: null means "follow lowercase", as in Hugging Face
      const accents = json.strip_accents == null ? lowercase : json.strip_accents === true;
      return (piece) => {
        let out = mapChars(piece, (c) => {
          if (cleanText) {
            if (c === '\0' || c === '\ufffd' || isControl(c)) return '';
            if (isWhitespace(c)) return ' ';
          }
          if (chinese && isChineseChar(c.codePointAt(0)!)) return ` ${c} `;
          return c;
        });
        if (accents) out = stripAccents(out);
        if (lowercase) out = mapChars(out, (c) => c.toLowerCase());
        return out;
      };
    }
    case 'Sequence': {
      const parts = ((json.normalizers as ComponentJson[]) ?? []).map(createNormalizer);
      return (piece) => parts.reduce((p, normalize) => normalize(p), piece);
    }
    default:
      throw new TokenizerError(
        'unsupported',
        `tokenizer.json: normalizer type ${JSON.stringify(json.type)} is not supported; supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend, BertNormalizer, Sequence`,
      );
  }
}
