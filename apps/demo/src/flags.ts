// Command-line flags shared by the commands: parsing with renamed flags still accepted, and the
// number checks whose errors name the flag, the value and what was expected.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './cli-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, where `renamed` maps an old flag name to its new one (`max-iters`
 * to `max-steps`, the trainer's `maxSteps`): the old name still works and prints a one-line
 * notice on stderr.
 *
 * parseFlags('train', ['--max-iters', '5'], { 'max-steps': { type: 'string' } }, { 'max-iters': 'max-steps' })
 *   -> values['max-steps'] === '5', and stderr says: llmkit train: --max-iters is deprecated; use --max-steps
 */
export function parseFlags<T extends Options>(
  command: string,
  args: string[],
  options: T,
  renamed: Record<string, keyof T & string> = {},
  allowPositionals = false,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>
> {
  const rewritten = args.map((arg) => {
    const match = /^--([^=]+)(=.*)?$/.exec(arg);
    const to = match ? renamed[match[1]] : undefined;
    if (!match || to === undefined) return arg;
    console.error(`llmkit ${command}: --${match[1]} is deprecated; use --${to}`);
    return `--${to}${match[2] ?? ''}`;
  });
  return parseArgs({ args: rewritten, options, allowPositionals, strict: true });
}

/** `value` as an integer of at least `minimum`, or an error naming `--flag`. */
export function integerFlag(flag: string, value: string | undefined, minimum = 1): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < minimum)
    throw new CliError(
      `--${flag} ${value}: expected ${minimum === 1 ? 'a positive integer' : `an integer >= ${minimum}`}`,
    );
  return n;
}

/** `value` as a finite number (above 0 with `positive`), or an error naming `--flag`. */
export function numberFlag(flag: string, value: string | undefined, positive = false): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n) || (positive && n <= 0))
    throw new CliError(`--${flag} ${value}: expected a ${positive ? 'positive ' : ''}number`);
  return n;
}

/** A `--seed` value: any integer. */
export function seedFlag(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n))
    throw new CliError(`--seed ${value}: expected an integer`);
  return n;
}

/** The flag of a library option name: `maxNewTokens` -> `--max-new-tokens`. */
export function flagName(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
