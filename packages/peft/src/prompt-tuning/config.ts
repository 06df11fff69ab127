// Prompt tuning's config (Lester et al., 2021, "The Power of Scale for Parameter-Efficient Prompt
// Tuning"): learned embeddings of virtual tokens put before every input.
import { checkChoice, checkNumber, configError, withDefaults } from '@llmkit/utils';

/** Turns text into token ids (any llmkit tokenizer has this shape). */
export interface PromptTokenizer {
  /** The ids of `text`. */
  encode(text: string): readonly number[];
}

/** The config of a prompt-tuning adapter. */
export interface PromptTuningConfig {
  /** `'prompt-tuning'`. */
  method: 'prompt-tuning';
  /** Number of virtual tokens before each input; default 8 (the paper finds 5 to 20 enough at scale). */
  numVirtualTokens: number;
  /**
   * `random` (default): N(0, 1), PEFT's nn.Embedding init. `text`: the embeddings of `initText`'s
   * tokens, repeated to fill the virtual tokens (the paper's better start for small models).
   */
  init: 'random' | 'text';
  /** The text of `init: 'text'` (for example a task description). */
  initText?: string;
  /** Encodes `initText` (required with `init: 'text'`). */
  tokenizer?: PromptTokenizer;
  /** `tokenizer_name_or_path` in adapter_config.json (informational). */
  tokenizerNameOrPath?: string;
  /** Seed of the random init (default: the global generator). */
  seed?: number;
  /** Modules trained and saved whole; default none. */
  modulesToSave: readonly string[];
}

/** The defaults of {@link PromptTuningConfig}. */
export const PROMPT_TUNING_DEFAULTS: PromptTuningConfig = {
  method: 'prompt-tuning',
  numVirtualTokens: 8,
  init: 'random',
  initText: undefined,
  tokenizer: undefined,
  tokenizerNameOrPath: undefined,
  seed: undefined,
  modulesToSave: [],
};

const WHERE = 'prompt tuning config';

/** Fills defaults and validates a prompt-tuning config. */
export function resolvePromptTuningConfig(config: unknown): PromptTuningConfig {
  const c = withDefaults(config as Partial<PromptTuningConfig>, PROMPT_TUNING_DEFAULTS, WHERE);
  checkNumber(WHERE, 'numVirtualTokens', c.numVirtualTokens, { min: 1, integer: true });
  checkChoice(WHERE, 'init', c.init, ['random', 'text'] as const);
  if (c.init === 'text') {
    if (typeof c.initText !== 'string' || c.initText === '')
      configError(WHERE, 'initText', c.initText, "non-empty text with init 'text'");
    if (!c.tokenizer || typeof c.tokenizer.encode !== 'function')
      configError(WHERE, 'tokenizer', c.tokenizer, "an object with encode(text) with init 'text'");
  }
  if (c.seed !== undefined) checkNumber(WHERE, 'seed', c.seed, { min: 0, integer: true });
  if (!Array.isArray(c.modulesToSave) || c.modulesToSave.some((m) => typeof m !== 'string'))
    configError(WHERE, 'modulesToSave', c.modulesToSave, 'a list of module names');
  return c;
}
