// Resolves `@llmkit/<name>[/subpath]` from a guide to packages/<name> (or apps/<name>) of this
// repository, through that package's own exports (a self-reference), so guides run against the
// built packages without docs/ depending on each of them. Registered by guides.test.mjs.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function resolve(specifier, context, nextResolve) {
  const match = /^@llmkit\/([^/]+)/.exec(specifier);
  if (match) {
    for (const folder of ['packages', 'apps']) {
      const manifest = join(root, folder, match[1], 'package.json');
      if (existsSync(manifest)) {
        return nextResolve(specifier, { ...context, parentURL: pathToFileURL(manifest).href });
      }
    }
  }
  return nextResolve(specifier, context);
}

if (!import.meta.url.includes('?hook')) register(`${import.meta.url}?hook`, import.meta.url);
