// Prompt builders for in-context learning (Brown et al., 2020, "Language Models are Few-Shot
// Learners"): an instruction, zero or more solved examples, then the input to complete.

/** A solved example shown to the model. */
export interface PromptExample {
  /** The example's input. */
  input: string;
  /** The answer the model should imitate. */
  output: string;
}

/** Options shared by the prompt builders. */
export interface PromptOptions {
  /** What the task is, in words, placed first (optional). */
  instruction?: string;
  /** The input the model should answer. */
  input: string;
  /** Label before each input. Default `Input:`. */
  inputLabel?: string;
  /** Label before each output; the prompt ends with it. Default `Output:`. */
  outputLabel?: string;
  /** Between the instruction and each example. Default a blank line. */
  separator?: string;
}

/**
 * A prompt with `examples` solved examples (any number, zero included).
 *
 * @example
 * ```ts
 * fewShotPrompt({ instruction: 'Translate to French.', examples: [{ input: 'cat', output: 'chat' }], input: 'dog' });
 * // 'Translate to French.\n\nInput: cat\nOutput: chat\n\nInput: dog\nOutput:'
 * ```
 */
export function fewShotPrompt(
  options: PromptOptions & { examples: readonly PromptExample[] },
): string {
  const inputLabel = options.inputLabel ?? 'Input:';
  const outputLabel = options.outputLabel ?? 'Output:';
  const separator = options.separator ?? '\n\n';
  if (typeof options.input !== 'string')
    throw new TypeError('fewShotPrompt: input must be a string');
  const parts: string[] = [];
  if (options.instruction) parts.push(options.instruction.trim());
  for (const example of options.examples) {
    parts.push(`${inputLabel} ${example.input}\n${outputLabel} ${example.output}`);
  }
  parts.push(`${inputLabel} ${options.input}\n${outputLabel}`);
  return parts.join(separator);
}

/**
 * A zero-shot prompt: the instruction and the input, no examples.
 *
 * @example
 * ```ts
 * zeroShotPrompt({ instruction: 'Is this review positive or negative?', input: 'Loved it.' });
 * // 'Is this review positive or negative?\n\nInput: Loved it.\nOutput:'
 * ```
 */
export function zeroShotPrompt(options: PromptOptions): string {
  return fewShotPrompt({ ...options, examples: [] });
}

/**
 * A one-shot prompt: the instruction, one solved example, then the input.
 *
 * @example
 * ```ts
 * oneShotPrompt({ example: { input: '2 + 2', output: '4' }, input: '3 + 5' });
 * // 'Input: 2 + 2\nOutput: 4\n\nInput: 3 + 5\nOutput:'
 * ```
 */
export function oneShotPrompt(options: PromptOptions & { example: PromptExample }): string {
  return fewShotPrompt({ ...options, examples: [options.example] });
}
