import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));

/** Every package a module imports, following its relative imports (static and dynamic). */
function packagesImportedBy(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      const specifier = match[1];
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else
        packages.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
  };
  visit(join(src, entry));
  return packages;
}

describe('entry points', () => {
  it('keeps @llmkit/rag, /eval and /sql free of @llmkit/transformer and @llmkit/core-tensor (only /encoder needs them)', () => {
    const main = packagesImportedBy('index.ts');
    expect(main.has('@electric-sql/pglite')).toBe(true); // the walk does see packages
    expect(main.has('@llmkit/transformer')).toBe(false);
    expect(main.has('@llmkit/core-tensor')).toBe(false);
    for (const entry of ['eval.ts', 'sql.ts']) {
      const imported = packagesImportedBy(entry);
      expect(imported.has('@llmkit/transformer')).toBe(false);
      expect(imported.has('@llmkit/core-tensor')).toBe(false);
    }
    const encoder = packagesImportedBy('encoder.ts');
    expect(encoder.has('@llmkit/transformer')).toBe(true);
    expect(encoder.has('@llmkit/core-tensor')).toBe(true);
    const manifest = JSON.parse(readFileSync(join(src, '../package.json'), 'utf8'));
    for (const peer of ['@llmkit/transformer', '@llmkit/core-tensor']) {
      expect(manifest.dependencies[peer]).toBeUndefined();
      expect(manifest.peerDependenciesMeta[peer]).toEqual({ optional: true });
    }
    expect(manifest.exports['./encoder'].default).toBe('./dist/encoder.js');
    expect(manifest.exports['./eval'].default).toBe('./dist/eval.js');
    expect(manifest.exports['./sql'].default).toBe('./dist/sql.js');
  });
});
