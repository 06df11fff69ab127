// The parts of Hugging Face's tokenizer.json that llmkit reads. Field names are the file's own
// (snake_case), so a file parses straight into these types; see
// https://huggingface.co/docs/tokenizers/api/ for each component's meaning.

/** A pattern field: a literal string or an Oniguruma regular expression. */
export type PatternJson = { String: string } | { Regex: string };

/** One entry of `added_tokens`. */
export interface AddedTokenJson {
  /** The token's id. */
  id: number;
  /** Its text, matched in the input before normalization. */
  content: string;
  /** Match only outside words. */
  single_word?: boolean;
  /** Take the whitespace before a match into the token. */
  lstrip?: boolean;
  /** Take the whitespace after a match into the token. */
  rstrip?: boolean;
  /** Match on the normalized text (llmkit matches the raw text; real files set false). */
  normalized?: boolean;
  /** A special token: skipped by `decode(ids, { skipSpecialTokens: true })`. */
  special?: boolean;
}

/** A normalizer, pre-tokenizer, post-processor or decoder: a `type` and its fields. */
export interface ComponentJson {
  /** The component's kind (`ByteLevel`, `Metaspace`, `NFC`, ...). */
  type: string;
  /** Its options, in the file's own names. */
  [field: string]: unknown;
}

/** The BPE or WordPiece model. */
export interface ModelJson {
  /** `BPE` or `WordPiece` (`Unigram` is not supported). */
  type: string;
  /** Token strings to ids. */
  vocab: Record<string, number> | [string, number][];
  /** BPE merges in rank order, as `"a b"` or `["a", "b"]`. */
  merges?: (string | [string, string])[];
  /** The token for what the vocabulary cannot spell. */
  unk_token?: string | null;
  /** Prefix of pieces inside a word (`##` in WordPiece). */
  continuing_subword_prefix?: string | null;
  /** Suffix of a word's last piece (`</w>` in some BPE models). */
  end_of_word_suffix?: string | null;
  /** Merge consecutive unknown tokens into one. */
  fuse_unk?: boolean;
  /** Spell characters outside the vocabulary as `<0xXX>` byte tokens (Llama 2, Gemma). */
  byte_fallback?: boolean;
  /** A word that is itself in the vocabulary is one token, merges aside (Llama 3). */
  ignore_merges?: boolean;
  /** BPE dropout while training; ignored (encoding is deterministic). */
  dropout?: number | null;
  /** WordPiece: longer words become the unk token. */
  max_input_chars_per_word?: number;
}

/** A whole tokenizer.json. */
export interface TokenizerJson {
  /** The file format's version (`1.0`). */
  version?: string;
  /** Special and extra tokens, cut out of the input first. */
  added_tokens?: AddedTokenJson[];
  /** Text clean-up before splitting (NFC, lowercase, replace...). */
  normalizer?: ComponentJson | null;
  /** How text is split into words before the model (a regex, byte-level, metaspace...). */
  pre_tokenizer?: ComponentJson | null;
  /** Special tokens added around sequences (`[CLS] ... [SEP]`, `<s>`). */
  post_processor?: ComponentJson | null;
  /** How tokens become text again. */
  decoder?: ComponentJson | null;
  /** The BPE or WordPiece model. */
  model: ModelJson;
}

/** The fields of tokenizer_config.json that llmkit reads. */
export interface TokenizerConfigJson {
  /** The Jinja chat template, or several named ones. */
  chat_template?: string | { name: string; template: string }[];
  /** The beginning-of-sequence token (a template variable). */
  bos_token?: string | { content: string } | null;
  /** The end-of-sequence token. */
  eos_token?: string | { content: string } | null;
  /** The unknown token. */
  unk_token?: string | { content: string } | null;
  /** The padding token. */
  pad_token?: string | { content: string } | null;
  /** transformers' slow-tokenizer flag; the post-processor decides here. */
  add_bos_token?: boolean;
  /** transformers' slow-tokenizer flag; the post-processor decides here. */
  add_eos_token?: boolean;
  /** The longest input the model takes. */
  model_max_length?: number;
  /** Other fields, kept as they are. */
  [field: string]: unknown;
}
