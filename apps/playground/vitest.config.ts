import { defineConfig } from 'vitest/config';

// The end-to-end test builds the site and drives headless Chromium: give it room on two cores.
export default defineConfig({
  test: { testTimeout: 240_000, hookTimeout: 240_000, include: ['test/**/*.test.ts'] },
});
