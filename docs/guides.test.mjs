// Runs every ```ts and ```js code block of every guide in docs/guides/*.md (`pnpm --filter
// @llmkit/docs test`, after the packages are built).
//
// - A guide's blocks run concatenated in order, as one ES module, so later blocks use what earlier
//   ones defined. TypeScript is transpiled with typescript's transpileModule (types are not checked).
// - `@llmkit/<name>` imports resolve to packages/<name> (its built dist, through its package.json
//   exports), by the resolve hook in guides-resolve.mjs.
// - Printed output is checked: a line that ends in a `// -> text` comment says what the guide prints
//   there. The guide's whole stdout must equal its `// -> text` comments joined in order, with all
//   whitespace ignored (so `[1, 2]` matches node's `[ 1, 2 ]`, also when node breaks a long array
//   over several lines). A remark may follow the output after two or more spaces, in parentheses:
//   `// -> [1, 4, 64]   (batch, positions, vocabulary)`. Print nothing that has no `// ->` comment. Blocks may also use node:assert.
// - A block fenced as ```ts no-run is shown but not run. Use it only for what cannot run here (a
//   download, a GPU, a file the reader has and CI does not), never to hide a block that fails.
// - A failure names the guide and the block (1-based, counting the guide's ts/js blocks) where the
//   error was thrown.
// - LLMKIT_GUIDES=tokenizer,rag runs only the guides whose file names contain one of those words.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const docsDir = dirname(fileURLToPath(import.meta.url));
const guidesDir = join(docsDir, 'guides');
const runDir = join(docsDir, '.tmp', 'guides');
const hook = pathToFileURL(join(docsDir, 'guides-resolve.mjs')).href;
const GUIDE_TIMEOUT_MS = 90_000;

/** The ts/js blocks of a Markdown file: `{ index, lang, run, code, line }` (line: 1-based, of the fence). */
export function extractBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|js|typescript|javascript)\b(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    blocks.push({
      index: blocks.length + 1,
      lang: open[1].startsWith('t') ? 'ts' : 'js',
      run: !/\bno-run\b/.test(open[2]),
      code: body.join('\n'),
      line: start + 1,
    });
  }
  return blocks;
}

/** The `// -> text` expectations of a block, in order. */
function expectations(code) {
  const expected = [];
  for (const line of code.split('\n')) {
    const match = /\/\/ -> (.*)$/.exec(line);
    if (match) expected.push(match[1].replace(/\s{2,}\(.*\)\s*$/, '').trim());
  }
  return expected;
}

const squash = (text) => text.replace(/\s+/g, '');

// The blocks are joined (each after a marker line printed to stderr, so an error names its block)
// and transpiled as one TypeScript module: top-level declarations stay visible to later blocks, and
// an import that only a later block uses is not elided. JavaScript blocks are valid TypeScript.
function buildModule(blocks) {
  const source = blocks
    .map((block) => `process.stderr.write('\\n@@guide-block ${block.index}\\n');\n${block.code}`)
    .join('\n');
  const { outputText } = ts.transpileModule(`${source}\nexport {};\n`, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return outputText;
}

const guides = readdirSync(guidesDir)
  .filter((name) => name.endsWith('.md'))
  .filter((name) => {
    const only = process.env.LLMKIT_GUIDES?.split(',').filter(Boolean) ?? [];
    return only.length === 0 || only.some((word) => name.includes(word));
  })
  .sort();

test('every guide has at least one runnable block', () => {
  for (const name of guides) {
    const blocks = extractBlocks(readFileSync(join(guidesDir, name), 'utf8'));
    assert.ok(
      blocks.some((block) => block.run),
      `${name}: no ts/js block to run`,
    );
  }
});

test('docs/typedoc.json lists every guide as a project document', () => {
  const { projectDocuments } = JSON.parse(readFileSync(join(docsDir, 'typedoc.json'), 'utf8'));
  for (const name of readdirSync(guidesDir).filter((file) => file.endsWith('.md'))) {
    assert.ok(projectDocuments.includes(`guides/${name}`), `typedoc.json: add guides/${name}`);
  }
});

test('extractBlocks numbers blocks and honours no-run', () => {
  const blocks = extractBlocks(
    'a\n```ts\nconst x = 1;\n```\n```sh\nls\n```\n```js no-run\nf()\n```\n',
  );
  assert.deepEqual(
    blocks.map((block) => [block.index, block.lang, block.run, block.code]),
    [
      [1, 'ts', true, 'const x = 1;'],
      [2, 'js', false, 'f()'],
    ],
  );
});

mkdirSync(runDir, { recursive: true });
for (const name of guides) {
  test(`guide ${name}`, () => {
    const blocks = extractBlocks(readFileSync(join(guidesDir, name), 'utf8')).filter((b) => b.run);
    const file = join(runDir, name.replace(/\.md$/, '.mjs'));
    writeFileSync(file, buildModule(blocks));
    const result = spawnSync(process.execPath, ['--import', hook, file], {
      cwd: runDir,
      encoding: 'utf8',
      timeout: GUIDE_TIMEOUT_MS,
      env: { ...process.env, LLMKIT_GUIDE_TEST: '1' },
    });
    const markers = [...(result.stderr ?? '').matchAll(/@@guide-block (\d+)/g)];
    const lastBlock = markers.length > 0 ? Number(markers.at(-1)[1]) : 1;
    const where = blocks.find((block) => block.index === lastBlock);
    const stderr = (result.stderr ?? '').replace(/\n?@@guide-block \d+\n/g, '');
    if (result.error) throw new Error(`${name}: block ${lastBlock}: ${result.error.message}`);
    assert.equal(
      result.status,
      0,
      `${name}: block ${lastBlock} (the fence at line ${where?.line}) threw:\n${stderr}`,
    );
    const printed = result.stdout.trimEnd();
    const expected = blocks.flatMap((block) => expectations(block.code));
    assert.equal(
      squash(printed),
      squash(expected.join('\n')),
      `${name}: what the guide printed differs from its // -> comments\nprinted:\n${printed}\nexpected (// -> comments):\n${expected.join('\n')}`,
    );
  });
}
