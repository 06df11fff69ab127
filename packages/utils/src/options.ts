// Option validation: configs are plain objects with defaults, checked before any work starts.
// Every failure is an `LlmkitError` with code `invalid_config` whose message names where, the
// field, the bad value and what was expected:
//   sampler: topP must be a finite number > 0 and <= 1, got 1.5
import { LlmkitError } from './errors.js';

/** Describes a value for an error message: strings quoted, objects by their kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return Object.prototype.toString.call(value);
}

/**
 * Throws `LlmkitError('invalid_config')`: `${where}: ${field} must be ${expected}, got ${value}`.
 *
 * @example
 * ```ts
 * configError('LoRA config', 'r', 0, 'an integer >= 1');
 * // throws: LoRA config: r must be an integer >= 1, got 0
 * ```
 */
export function configError(where: string, field: string, value: unknown, expected: string): never {
  throw new LlmkitError(
    'invalid_config',
    `${where}: ${field} must be ${expected}, got ${describeValue(value)}`,
  );
}

/** The range {@link checkNumber} accepts. */
export interface NumberRange {
  /** Smallest allowed value (default: no bound). */
  min?: number;
  /** Largest allowed value (default: no bound). */
  max?: number;
  /** `min` itself is not allowed. */
  minExclusive?: boolean;
  /** `max` itself is not allowed. */
  maxExclusive?: boolean;
  /** Only integers are allowed. */
  integer?: boolean;
}

/**
 * Checks that `value` is a finite number in `range` and returns it.
 *
 * @example
 * ```ts
 * checkNumber('sampler', 'topK', 40, { min: 0, integer: true }); // 40
 * checkNumber('sampler', 'topP', 1.5, { min: 0, minExclusive: true, max: 1 });
 * // throws: sampler: topP must be a finite number > 0 and <= 1, got 1.5
 * ```
 */
export function checkNumber(
  where: string,
  field: string,
  value: unknown,
  range: NumberRange = {},
): number {
  const {
    min = -Infinity,
    max = Infinity,
    minExclusive = false,
    maxExclusive = false,
    integer = false,
  } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minExclusive ? value > min : value >= min) &&
    (maxExclusive ? value < max : value <= max) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'an integer' : 'a finite number';
    const low = min === -Infinity ? '' : minExclusive ? ` > ${min}` : ` >= ${min}`;
    const high = max === Infinity ? '' : `${low ? ' and' : ''} ${maxExclusive ? '<' : '<='} ${max}`;
    configError(where, field, value, `${kind}${low}${high}`);
  }
  return value as number;
}

/** Checks that `value` is one of `choices` and returns it. */
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

/** Checks that `value` is a boolean and returns it. */
export function checkBoolean(where: string, field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') configError(where, field, value, 'a boolean');
  return value;
}

/**
 * Throws `invalid_config` for a key of `options` that is not a key of `known` (a defaults
 * object, or a list of names), with a guess when only case or underscores differ, so a typo such
 * as `top_p` or `maxtokens` is not ignored silently.
 *
 * @example
 * ```ts
 * rejectUnknownKeys({ top_p: 0.9 }, { topP: 1, topK: 0 }, 'sampler');
 * // throws: sampler: unknown option "top_p"; did you mean topP?
 * ```
 */
export function rejectUnknownKeys(
  options: object,
  known: object | readonly string[],
  where: string,
): void {
  const names = Array.isArray(known) ? (known as readonly string[]) : Object.keys(known);
  for (const key of Object.keys(options)) {
    if (names.includes(key)) continue;
    const plain = (name: string) => name.toLowerCase().replaceAll('_', '').replaceAll('-', '');
    const guess = names.find((name) => plain(name) === plain(key));
    throw new LlmkitError(
      'invalid_config',
      `${where}: unknown option ${JSON.stringify(key)}${
        guess ? `; did you mean ${guess}?` : `; expected one of ${names.join(', ')}`
      }`,
    );
  }
}

/**
 * Fills `options` with `defaults` after rejecting keys the defaults do not name. The known keys
 * are derived from the defaults object, so there is no second list to keep in step. Keys whose
 * value is `undefined` take the default.
 *
 * @example
 * ```ts
 * withDefaults({ r: 16 }, { r: 8, alpha: 16 }, 'LoRA config'); // { r: 16, alpha: 16 }
 * ```
 */
export function withDefaults<T extends object>(
  options: Partial<T> | undefined,
  defaults: T,
  where: string,
): T {
  if (options === undefined || options === null) return { ...defaults };
  if (typeof options !== 'object' || Array.isArray(options))
    configError(where, 'options', options, 'an object');
  rejectUnknownKeys(options, defaults, where);
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out as T;
}
