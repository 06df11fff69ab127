import { defineConfig } from 'vitest/config';

// Training tests run a few hundred optimizer steps on the js backend; give them room on a busy
// two-core machine (the default 5 s would be a timing assertion in disguise).
export default defineConfig({ test: { testTimeout: 120_000 } });
