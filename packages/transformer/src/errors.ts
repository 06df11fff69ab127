/**
 * The one error class of @llmkit/transformer. `code` is stable and machine-readable; the message
 * names the bad value and what was expected.
 *
 * @example
 * ```ts
 * try { new GPT({ vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 3, nEmbd: 8 }) } catch (e) {
 *   if (e instanceof TransformerError) console.log(e.code, e.message);
 *   // invalid_config GPT config: nEmbd (8) must be divisible by nHead (3)
 * }
 * ```
 */
export class TransformerError extends Error {
  /**
   * A stable identifier of the failure: `invalid_config`, `invalid_input`, `prompt_too_long`,
   * `checkpoint`, `unsupported`.
   */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TransformerError';
    this.code = code;
  }
}

/** Throws an `invalid_config` error naming the field, its value and what was expected. */
export function configError(where: string, field: string, value: unknown, expected: string): never {
  throw new TransformerError(
    'invalid_config',
    `${where}: ${field} must be ${expected}, got ${JSON.stringify(value)}`,
  );
}

/** Checks that `config[field]` is an integer >= `min` (1 by default) and returns it. */
export function checkInteger(where: string, field: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    configError(where, field, value, `an integer >= ${min}`);
  }
  return value;
}

/** Checks that a number lies in [min, max) (or [min, max] when `inclusive`). */
export function checkRange(
  where: string,
  field: string,
  value: unknown,
  min: number,
  max: number,
  inclusive = false,
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (inclusive ? value > max : value >= max)
  ) {
    configError(where, field, value, `a number in [${min}, ${max}${inclusive ? ']' : ')'}`);
  }
  return value;
}

/** Checks that a value is one of `choices`. */
export function checkChoice<T extends string>(
  where: string,
  field: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    configError(where, field, value, `one of ${choices.map((c) => `'${c}'`).join(', ')}`);
  }
  return value as T;
}

/** Checks that a value is a boolean. */
export function checkBoolean(where: string, field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') configError(where, field, value, 'a boolean');
  return value;
}
