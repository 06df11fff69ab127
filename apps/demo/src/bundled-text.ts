import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root, found by walking up to `pnpm-workspace.yaml`. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        'cannot find the llmkit repository root (no pnpm-workspace.yaml above this file)',
      );
    dir = parent;
  }
  return dir;
}

/**
 * The text the demo trains on by default: the repository's own Markdown (README, guides,
 * package READMEs), so the project ships no third-party text.
 */
export function readBundledText(): string {
  const root = repositoryRoot();
  const files = [join(root, 'README.md'), join(root, 'CONTRIBUTING.md')];
  for (const folder of ['docs/guides', 'contributing']) {
    const dir = join(root, folder);
    if (existsSync(dir))
      for (const f of readdirSync(dir).sort()) if (f.endsWith('.md')) files.push(join(dir, f));
  }
  const packages = join(root, 'packages');
  for (const p of readdirSync(packages).sort()) {
    const readme = join(packages, p, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  return files
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n\n');
}
