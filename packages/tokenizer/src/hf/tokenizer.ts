// A Hugging Face tokenizer.json, run in TypeScript: added tokens -> normalizer -> pre-tokenizer
// -> model (BPE or WordPiece) -> post-processor, and back through the decoder. Covers the
// families people use today: byte-level BPE (GPT-2, Llama 3, Qwen 2/3), sentencepiece-style BPE
// with byte fallback (Llama 2, TinyLlama, Mistral, Gemma), WordPiece (BERT). Not covered:
// Unigram models (T5, XLNet) and the Precompiled normalizer: loading them is an `unsupported`
// error that names the component.
import { applyChatTemplate, type ChatMessage } from '../chat.js';
import { TokenizerError } from '../errors.js';
import { AddedTokenSplitter } from './added-tokens.js';
import { cleanUpTokenization, createDecoder, type Decoder } from './decoders.js';
import type { AddedTokenJson, TokenizerConfigJson, TokenizerJson } from './json.js';
import { createModel, type TokenizerModel } from './models.js';
import { createNormalizer, type Normalizer } from './normalizers.js';
import { pieceOf } from './piece.js';
import { createPostProcessor, type EncodedToken, type PostProcessor } from './post-processors.js';
import {
  byteLevelSplitPattern,
  byteLevelText,
  createPreTokenizer,
  type PreTokenizer,
} from './pre-tokenizers.js';

/** Options of {@link Tokenizer.encode}. */
export interface TokenizerEncodeOptions {
  /** Add the special tokens the post-processor defines (`<s>`, `[CLS] ... [SEP]`). Default `true`. */
  addSpecialTokens?: boolean;
  /** A second sequence (sentence pairs for BERT-style models). */
  pair?: string;
}

/** What {@link Tokenizer.encodeWithOffsets} returns. */
export interface TokenizerEncoding {
  /** Token ids. */
  ids: number[];
  /** Token strings, as the vocabulary spells them. */
  tokens: string[];
  /** Per token, `[start, end)` in UTF-16 units of the input (`[0, 0]` for added special tokens). */
  offsets: [number, number][];
  /** 1 where the token is special (added by the post-processor or a special added token). */
  specialTokensMask: number[];
  /** 0 for tokens of the first sequence, 1 for the pair's second (BERT's token_type_ids). */
  typeIds: number[];
}

/** Options of {@link Tokenizer.decode}. */
export interface TokenizerDecodeOptions {
  /** Leave special tokens out of the text. Default `false`. */
  skipSpecialTokens?: boolean;
  /** Remove spaces before punctuation (`clean_up_tokenization_spaces`); default from tokenizer_config.json. */
  cleanUpTokenizationSpaces?: boolean;
}

/** Options of {@link Tokenizer.applyChatTemplate}. */
export interface TokenizerChatOptions {
  /** End with the opening of an assistant turn. Default `false`. */
  addGenerationPrompt?: boolean;
  /** Further template variables (`tools`, `enable_thinking`, ...). */
  variables?: Record<string, unknown>;
  /** A template name when tokenizer_config.json has several (default: `default`). */
  templateName?: string;
}

/** Throws `invalid_argument` unless `text` (and a pair, when given) is a string. */
function checkText(text: unknown, options: TokenizerEncodeOptions): void {
  for (const [name, value] of [
    ['text', text],
    ['pair', options.pair],
  ] as const) {
    if (name === 'pair' && value === undefined) continue;
    if (typeof value !== 'string')
      throw new TokenizerError(
        'invalid_argument',
        `encode: ${name} must be a string, got ${typeof value}`,
      );
  }
}

const tokenContent = (value: TokenizerConfigJson['bos_token']) =>
  value == null ? undefined : typeof value === 'string' ? value : value.content;

/**
 * A tokenizer loaded from Hugging Face's tokenizer.json (and optionally tokenizer_config.json,
 * for the chat template, special tokens and decode settings).
 *
 * @example
 * ```ts
 * import { loadTokenizer } from '@llmkit/tokenizer';
 * const tokenizer = await loadTokenizer('models/Qwen3-0.6B'); // a folder with tokenizer.json
 * tokenizer.encode('Hello world'); // [9707, 1879]
 * tokenizer.decode([9707, 1879]); // 'Hello world'
 * ```
 */
export class Tokenizer {
  private readonly model: TokenizerModel;
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer | null;
  private readonly postProcessor: PostProcessor | null;
  private readonly decoder: Decoder | null;
  private readonly splitter: AddedTokenSplitter;
  private readonly added = new Map<number, AddedTokenJson>();
  private readonly addedByContent = new Map<string, number>();
  /** The fast path's split pattern (byte-level tokenizers), or null. */
  private readonly fastSplit: RegExp | null;
  /** Fast path cache: a raw piece of text to its ids. */
  private readonly pieceIds = new Map<string, Int32Array>();

  /** Builds a tokenizer from parsed tokenizer.json (and tokenizer_config.json) contents. */
  constructor(
    json: TokenizerJson,
    /** The parsed tokenizer_config.json, or `{}`. */
    readonly config: TokenizerConfigJson = {},
  ) {
    if (typeof json !== 'object' || json === null || typeof json.model !== 'object')
      throw new TokenizerError(
        'corrupt_file',
        'tokenizer.json: expected an object with a "model" field',
      );
    this.model = createModel(json.model);
    this.normalizer = json.normalizer ? createNormalizer(json.normalizer) : null;
    this.preTokenizer = json.pre_tokenizer ? createPreTokenizer(json.pre_tokenizer) : null;
    this.postProcessor = json.post_processor ? createPostProcessor(json.post_processor) : null;
    this.decoder = json.decoder ? createDecoder(json.decoder) : null;
    for (const token of json.added_tokens ?? []) {
      this.added.set(token.id, token);
      this.addedByContent.set(token.content, token.id);
    }
    this.splitter = new AddedTokenSplitter(json.added_tokens ?? []);
    this.fastSplit = byteLevelSplitPattern(json.pre_tokenizer);
  }

  /** Number of ids (the model's vocabulary plus added tokens). */
  get vocabSize(): number {
    let size = this.model.vocabSize;
    for (const id of this.added.keys()) size = Math.max(size, id + 1);
    return size;
  }

  /** The beginning-of-sequence token from tokenizer_config.json, if any. */
  get bosToken(): string | undefined {
    return tokenContent(this.config.bos_token);
  }

  /** The end-of-sequence token from tokenizer_config.json, if any. */
  get eosToken(): string | undefined {
    return tokenContent(this.config.eos_token);
  }

  /** The id of a token string (vocabulary or added), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.model.tokenToId(token);
  }

  /** The string of a token id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.added.get(id)?.content ?? this.model.idToToken(id);
  }

  /** Token ids of `text`. */
  encode(text: string, options: TokenizerEncodeOptions = {}): number[] {
    checkText(text, options);
    const a = this.idsOf(text);
    const b = options.pair === undefined ? null : this.idsOf(options.pair);
    if (options.addSpecialTokens === false || !this.postProcessor) return b ? a.concat(b) : a;
    // post-processors only wrap sequences: lay out placeholders (-1 for A, -2 for B), then fill
    const marker = (id: number): EncodedToken => ({
      id,
      start: 0,
      end: 0,
      special: false,
      typeId: 0,
    });
    const layout = this.postProcessor([marker(-1)], b ? [marker(-2)] : null);
    return layout.flatMap((t) => (t.id === -1 ? a : t.id === -2 ? (b ?? []) : [t.id]));
  }

  /** Ids of one sequence without offsets: the fast path of {@link encode}. */
  private idsOf(text: string): number[] {
    const out: number[] = [];
    const segments = this.splitter.split(text);
    segments.forEach((segment, index) => {
      if (segment.id !== null) {
        out.push(segment.id);
        return;
      }
      let piece = pieceOf(text, segment.start, segment.end, false);
      if (this.normalizer) piece = this.normalizer(piece);
      const split = this.fastSplit;
      if (!split) {
        const pieces = this.preTokenizer ? this.preTokenizer(piece, index === 0) : [piece];
        for (const p of pieces)
          if (p.text.length > 0) for (const id of this.model.tokenize(p.text).ids) out.push(id);
        return;
      }
      const normalized = piece.text;
      let last = 0;
      split.lastIndex = 0;
      const emit = (raw: string) => {
        let ids = this.pieceIds.get(raw);
        if (!ids) {
          ids = this.model.tokenize(byteLevelText(raw)).ids;
          if (raw.length <= 256) {
            if (this.pieceIds.size >= 100_000) this.pieceIds.clear();
            this.pieceIds.set(raw, ids);
          }
        }
        for (let k = 0; k < ids.length; k++) out.push(ids[k]);
      };
      for (let m = split.exec(normalized); m; m = split.exec(normalized)) {
        if (m[0].length === 0) {
          split.lastIndex++;
          continue;
        }
        if (m.index > last) emit(normalized.slice(last, m.index));
        emit(m[0]);
        last = m.index + m[0].length;
      }
      if (last < normalized.length) emit(normalized.slice(last));
    });
    return out;
  }

  /** Token ids with their strings, offsets into `text`, special-token mask and type ids. */
  encodeWithOffsets(text: string, options: TokenizerEncodeOptions = {}): TokenizerEncoding {
    const tokens = this.run(text, options, true);
    return {
      ids: tokens.map((t) => t.id),
      tokens: tokens.map((t) => this.idToToken(t.id) ?? ''),
      offsets: tokens.map((t) => [t.start, t.end]),
      specialTokensMask: tokens.map((t) => (t.special ? 1 : 0)),
      typeIds: tokens.map((t) => t.typeId),
    };
  }

  private run(text: string, options: TokenizerEncodeOptions, track: boolean): EncodedToken[] {
    checkText(text, options);
    const a = this.encodeSequence(text, track);
    const b = options.pair === undefined ? null : this.encodeSequence(options.pair, track);
    if (options.addSpecialTokens === false || !this.postProcessor)
      return b ? [...a, ...b.map((t) => ({ ...t, typeId: 1 }))] : a;
    return this.postProcessor(a, b);
  }

  private encodeSequence(text: string, track: boolean): EncodedToken[] {
    const out: EncodedToken[] = [];
    const segments = this.splitter.split(text);
    segments.forEach((segment, index) => {
      if (segment.id !== null) {
        out.push({
          id: segment.id,
          start: segment.start,
          end: segment.end,
          special: this.added.get(segment.id)?.special === true,
          typeId: 0,
        });
        return;
      }
      let piece = pieceOf(text, segment.start, segment.end, track);
      if (this.normalizer) piece = this.normalizer(piece);
      const pieces = this.preTokenizer ? this.preTokenizer(piece, index === 0) : [piece];
      for (const p of pieces) {
        if (p.text.length === 0) continue;
        const { ids, ranges } = this.model.tokenize(p.text);
        for (let k = 0; k < ids.length; k++) {
          const start = p.offsets ? p.offsets[2 * ranges[2 * k]] : 0;
          const end = p.offsets ? p.offsets[2 * ranges[2 * k + 1] - 1] : 0;
          out.push({ id: ids[k], start, end, special: false, typeId: 0 });
        }
      }
    });
    return out;
  }

  /** Text of token ids, through the tokenizer's decoder. */
  decode(ids: readonly number[], options: TokenizerDecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0)
        throw new TokenizerError(
          'invalid_argument',
          `decode: token id ${id} is not a non-negative integer`,
        );
      const added = this.added.get(id);
      if (added?.special && options.skipSpecialTokens) continue;
      const token = added?.content ?? this.model.idToToken(id);
      if (token === undefined)
        throw new TokenizerError(
          'invalid_argument',
          `decode: token id ${id} is not in the vocabulary of ${this.vocabSize}`,
        );
      tokens.push(token);
    }
    const text = this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
    const cleanUp =
      options.cleanUpTokenizationSpaces ?? this.config.clean_up_tokenization_spaces === true;
    return cleanUp ? cleanUpTokenization(text) : text;
  }

  /**
   * Renders a conversation with the chat template of tokenizer_config.json (through
   * `@huggingface/jinja`), with `bos_token`, `eos_token` and the other special tokens set.
   *
   * @example
   * ```ts
   * tokenizer.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
   * // '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' (Qwen)
   * ```
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: TokenizerChatOptions = {}): string {
    const templates = this.config.chat_template;
    let template: string | undefined;
    if (typeof templates === 'string') template = templates;
    else if (Array.isArray(templates)) {
      const name = options.templateName ?? 'default';
      template = templates.find((t) => t.name === name)?.template;
      if (!template)
        throw new TokenizerError(
          'not_found',
          `applyChatTemplate: no chat template named ${JSON.stringify(name)}; the file has ${templates.map((t) => t.name).join(', ')}`,
        );
    }
    if (!template)
      throw new TokenizerError(
        'not_found',
        'applyChatTemplate: tokenizer_config.json has no chat_template',
      );
    const variables: Record<string, unknown> = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) {
      const value = tokenContent(this.config[key]);
      if (value !== undefined) variables[key] = value;
    }
    return applyChatTemplate(messages, template, {
      addGenerationPrompt: options.addGenerationPrompt,
      variables: { ...variables, ...options.variables },
    });
  }
}
