import { describe, expect, it } from 'vitest';
import { LlmkitError } from './errors.js';
import {
  checkBoolean,
  checkChoice,
  checkNumber,
  configError,
  rejectUnknownKeys,
  withDefaults,
} from './options.js';

describe('option validation', () => {
  it('checkNumber accepts values in range and names the field and value otherwise', () => {
    expect(checkNumber('s', 'topK', 40, { min: 0, integer: true })).toBe(40);
    expect(() =>
      checkNumber('sampler', 'topP', 1.5, { min: 0, minExclusive: true, max: 1 }),
    ).toThrow('sampler: topP must be a finite number > 0 and <= 1, got 1.5');
    expect(() => checkNumber('s', 'r', 2.5, { min: 1, integer: true })).toThrow(
      's: r must be an integer >= 1, got 2.5',
    );
    expect(() => checkNumber('s', 'p', 1, { max: 1, maxExclusive: true })).toThrow('< 1, got 1');
    expect(() => checkNumber('s', 'x', Number.NaN)).toThrow('got NaN');
    expect(() => checkNumber('s', 'x', '3')).toThrow('got "3"');
  });

  it('errors are LlmkitError with code invalid_config', () => {
    try {
      configError('w', 'f', [1, 2], 'a number');
    } catch (error) {
      expect(error).toBeInstanceOf(LlmkitError);
      expect((error as LlmkitError).code).toBe('invalid_config');
      expect((error as Error).message).toBe('w: f must be a number, got an array of 2');
    }
    expect.assertions(3);
  });

  it('checkChoice and checkBoolean', () => {
    expect(checkChoice('w', 'bias', 'none', ['none', 'all'])).toBe('none');
    expect(() => checkChoice('w', 'bias', 'some', ['none', 'all'])).toThrow(
      "w: bias must be one of 'none', 'all', got \"some\"",
    );
    expect(checkBoolean('w', 'b', false)).toBe(false);
    expect(() => checkBoolean('w', 'b', 0)).toThrow('w: b must be a boolean, got 0');
  });

  it('rejectUnknownKeys guesses the spelling or lists the names', () => {
    expect(() => rejectUnknownKeys({ top_p: 1 }, { topP: 1, topK: 0 }, 'sampler')).toThrow(
      'sampler: unknown option "top_p"; did you mean topP?',
    );
    expect(() => rejectUnknownKeys({ zz: 1 }, ['a', 'b'], 'w')).toThrow(
      'w: unknown option "zz"; expected one of a, b',
    );
    expect(() => rejectUnknownKeys({ a: 1 }, ['a'], 'w')).not.toThrow();
  });

  it('withDefaults fills defaults, keeps given values and rejects unknown keys', () => {
    const defaults = { r: 8, alpha: 16, dropout: 0 };
    expect(withDefaults({ r: 4, alpha: undefined }, defaults, 'lora')).toEqual({
      r: 4,
      alpha: 16,
      dropout: 0,
    });
    expect(withDefaults(undefined, defaults, 'lora')).toEqual(defaults);
    expect(() => withDefaults({ rank: 4 } as never, defaults, 'lora')).toThrow(
      'unknown option "rank"',
    );
    expect(() => withDefaults(5 as never, defaults, 'lora')).toThrow(
      'lora: options must be an object',
    );
  });
});
