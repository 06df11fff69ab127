// The parts of Hugging Face's tokenizer.json that llmkit reads. Field names are the file's own
// (snake_case), so a file parses straight into these types; see
// https://huggingface.co/docs/tokenizers/api/ for each component's meaning.

/** A pattern field: a literal string or an Oniguruma regular expression. */
export type PatternJson = { String: string } | { Regex: string };

/** One entry of `added_tokens`. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** A normalizer, pre-tokenizer, post-processor or decoder: a `type` and its fields. */
export interface ComponentJson {
  type: string;
  [field: string]: unknown;
}

/** The BPE or WordPiece model. */
export interface ModelJson {
  type: string;
  vocab: Record<string, number> | [string, number][];
  merges?: (string | [string, string])[];
  unk_token?: string | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  fuse_unk?: boolean;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
  dropout?: number | null;
  max_input_chars_per_word?: number;
}

/** A whole tokenizer.json. */
export interface TokenizerJson {
  version?: string;
  added_tokens?: AddedTokenJson[];
  normalizer?: ComponentJson | null;
  pre_tokenizer?: ComponentJson | null;
  post_processor?: ComponentJson | null;
  decoder?: ComponentJson | null;
  model: ModelJson;
}

/** The fields of tokenizer_config.json that llmkit reads. */
export interface TokenizerConfigJson {
  chat_template?: string | { name: string; template: string }[];
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  unk_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  model_max_length?: number;
  [field: string]: unknown;
}
