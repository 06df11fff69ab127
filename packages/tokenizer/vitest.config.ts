import { defineConfig } from 'vitest/config';

// The parity tests encode whole corpora with six encodings and tiktoken; give them room on a
// busy two-core machine (the default 5 s is a timing assertion in disguise).
export default defineConfig({ test: { testTimeout: 120_000 } });
