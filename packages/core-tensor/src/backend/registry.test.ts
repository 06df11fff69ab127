import { describe, expect, it } from 'vitest';
import { createJsBackend } from './js/index.js';
import { findBackend, getBackend, registerBackend, setBackend } from './registry.js';

describe('backend registry', () => {
  it('keeps one instance when getBackend runs while setBackend awaits', async () => {
    registerBackend('js-race', () => createJsBackend(), -1);
    const pending = setBackend('js-race'); // not awaited yet, as a caller might forget to
    const early = findBackend('js-race'); // a synchronous lookup creates the instance meanwhile
    const set = await pending;
    expect(set).toBe(early);
    expect(getBackend()).toBe(early);
    await setBackend('js');
  });
});
