import { defineConfig } from 'vitest/config';

// Shader compilation on Mesa's software OpenGL ES takes seconds on a busy machine: the default
// 5 s per test is too short for the first use of a kernel.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } });
