import { defineConfig } from 'vitest/config';

// Training tests run real optimisation steps, some in beforeAll hooks; give them room on a busy
// two-core machine (the defaults, 5 s a test and 10 s a hook, would be timing assertions in
// disguise).
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
