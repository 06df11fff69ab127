import { defineConfig } from 'vite';

// A static site: `pnpm --filter @llmkit/playground build` writes dist/, served from any folder.
export default defineConfig({
  base: './',
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  worker: { format: 'es' },
});
