import { defineConfig } from 'vitest/config';

// The CI machine is shared: allow slow runs of the training tests instead of flaking.
export default defineConfig({ test: { testTimeout: 30_000 } });
