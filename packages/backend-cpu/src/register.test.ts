// The side-effect entry: registers `cpu` above `js` when the addon loads; otherwise one line on
// stderr says why and `js` stays in use. (The unavailable case runs first: the registry is
// module state.)
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  delete process.env.LLMKIT_CPU_DISABLE;
  vi.restoreAllMocks();
});

describe('@llmkit/backend-cpu/register', () => {
  it('says why in one line and leaves js in use when the addon cannot load', async () => {
    vi.resetModules();
    process.env.LLMKIT_CPU_DISABLE = '1';
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const core = await import('@llmkit/core-tensor');
    await import('./register.js');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toBe(
      '@llmkit/backend-cpu: cpu backend not registered, using js: disabled by LLMKIT_CPU_DISABLE=1',
    );
    expect(core.listBackends()).not.toContain('cpu');
    expect(core.getBackend().name).toBe('js');
  });

  it('registers cpu, which becomes the default backend', async () => {
    vi.resetModules();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const core = await import('@llmkit/core-tensor');
    await core.setBackend('js');
    await import('./register.js');
    expect(warn).not.toHaveBeenCalled();
    expect(core.listBackends()[0]).toBe('cpu');
    const backend = await core.setBackend('cpu');
    const product = core.matmul(core.tensor([[1, 2]]), core.tensor([[3], [4]]));
    expect(product.backend).toBe(backend);
    expect(Array.from(product.dataSync())).toEqual([11]);
  });
});
