import { configError } from '@llmkit/utils';

/** Turns token ids into text: a function, or any object with a `decode` method (a tokenizer). */
export type TokenDecoder = ((tokens: number[]) => string) | { decode(tokens: number[]): string };

/**
 * A stop-string rule: true when the sequence's text now contains one of `stopStrings`, counting
 * only occurrences that end in the last token (like Hugging Face's `StopStringCriteria`, so a stop
 * string inside the prompt does not stop generation at once). Decodes a window of the last
 * `4 * longest + 2` tokens, enough for any string because every token is at least one byte and
 * a character at most four, so the cost per token does not grow with the sequence.
 *
 * @example
 * ```ts
 * const stopped = stopStringRule(['\n\n'], tokenizer);
 * stopped([...prompt, ...generated], prompt.length); // true once the text ends a paragraph
 * ```
 */
export function stopStringRule(
  stopStrings: readonly string[],
  decoder: TokenDecoder,
): (sequence: readonly number[], promptLength: number) => boolean {
  if (!Array.isArray(stopStrings) || stopStrings.some((s) => typeof s !== 'string' || s === '')) {
    configError('generate', 'stopStrings', stopStrings, 'an array of non-empty strings');
  }
  const decode =
    typeof decoder === 'function'
      ? decoder
      : typeof decoder?.decode === 'function'
        ? (tokens: number[]) => decoder.decode(tokens)
        : configError(
            'generate',
            'tokenizer',
            decoder,
            'a decode function or an object with decode(tokens)',
          );
  const longest = Math.max(...stopStrings.map((s) => s.length));
  const window = 4 * longest + 2;
  return (sequence) => {
    const start = Math.max(0, sequence.length - window);
    const text = decode(sequence.slice(start));
    const before = decode(sequence.slice(start, sequence.length - 1));
    for (const stop of stopStrings) {
      // Occurrences ending in the last token start after before.length - stop.length.
      const from = text.startsWith(before)
        ? before.length - stop.length + 1
        : before.length - stop.length;
      if (text.indexOf(stop, Math.max(0, from)) >= 0) return true;
    }
    return false;
  };
}
