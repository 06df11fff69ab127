// The files `llmkit rag index` indexes and `llmkit rag train-embedder --from-markdown` reads.
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

const EXTENSIONS = new Set(['.md', '.markdown', '.txt']);

/** Every .md / .markdown / .txt file under `dir` (hidden folders and node_modules skipped), sorted. */
export function findTextFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && EXTENSIONS.has(extname(entry.name).toLowerCase()))
        found.push(path);
    }
  };
  walk(dir);
  return found.sort();
}
