// scripts/api-report.mjs on a made-up repository: kinds, `export *` followed, subpaths found from
// package.json exports, --write / --check and the messages a contributor sees.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), 'api-report.mjs');

/** Runs the script on `root`; returns its exit code and what it printed. */
function report(root, ...args) {
  try {
    const stdout = execFileSync(process.execPath, [script, `--root=${root}`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, output: stdout };
  } catch (error) {
    return { code: error.status, output: `${error.stdout}${error.stderr}` };
  }
}

/** Writes `files` (path -> text) under a fresh folder and returns it. */
function repository(files) {
  const root = mkdtempSync(join(tmpdir(), 'api-report-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const manifest = (name, exports) => JSON.stringify({ name, type: 'module', exports });

const tiny = {
  'packages/tiny/package.json': manifest('@x/tiny', {
    '.': { types: './dist/index.d.ts', default: './dist/index.js' },
    './extra': { import: { types: './dist/extra.d.ts', default: './dist/extra.js' } },
    './package.json': './package.json',
  }),
  'packages/tiny/dist/index.d.ts': [
    "export * from './ops.js';",
    "export * as helpers from './ops.js';",
    'export declare class Box {}',
    'export interface Options { size: number }',
    'export type Size = number;',
    'export declare const LIMIT = 3;',
    'export declare let counter: number;',
    'export declare enum Mode { A, B }',
    'declare function hidden(): void;',
    'export { hidden as renamed };',
  ].join('\n'),
  'packages/tiny/dist/ops.d.ts': 'export declare function add(a: number, b: number): number;\n',
  'packages/tiny/dist/extra.d.ts': 'export declare function extra(): void;\n',
};

test('lists every export of every entry point with its kind, following export *', () => {
  const root = repository(tiny);
  try {
    assert.equal(report(root, '--write').code, 0);
    assert.equal(
      readFileSync(join(root, 'api/tiny.api.txt'), 'utf8').replace(/^# .*\n/gm, ''),
      [
        '',
        '## @x/tiny (9 exports)',
        'class Box',
        'const LIMIT',
        'enum Mode',
        'interface Options',
        'type Size',
        'function add',
        'let counter',
        'namespace helpers',
        'function renamed',
        '',
        '## @x/tiny/extra (1 exports)',
        'function extra',
        '',
      ].join('\n'),
    );
    assert.deepEqual(report(root, '--check'), {
      code: 0,
      output: 'api-report: 1 packages match api/.\n',
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--check fails with a diff when the built surface changed, naming the command that updates it', () => {
  const root = repository(tiny);
  try {
    report(root, '--write');
    writeFileSync(
      join(root, 'packages/tiny/dist/extra.d.ts'),
      'export declare function extra(): void;\nexport declare function more(): void;\n',
    );
    const { code, output } = report(root, '--check');
    assert.equal(code, 1);
    assert.match(output, /public surface of @x\/tiny differs from api\/tiny\.api\.txt/);
    assert.match(output, /\+ function more\n/);
    assert.match(output, /- ## @x\/tiny\/extra \(1 exports\)/);
    assert.doesNotMatch(output, /function add/); // unchanged lines are not repeated
    assert.match(output, /run node scripts\/api-report\.mjs --write/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a new package without a report, a report without a package and an unbuilt package fail --check', () => {
  const root = repository({
    ...tiny,
    'api/gone.api.txt': '# old\n',
    'packages/unbuilt/package.json': manifest('@x/unbuilt', {
      '.': { types: './dist/index.d.ts' },
    }),
  });
  try {
    const unbuilt = report(root, '--check');
    assert.equal(unbuilt.code, 2);
    assert.match(unbuilt.output, /not built \(run `pnpm build` first\):\n {2}@x\/unbuilt: /);
    rmSync(join(root, 'packages/unbuilt'), { recursive: true });
    const { code, output } = report(root, '--check');
    assert.equal(code, 1);
    assert.match(
      output,
      /@x\/tiny has no report file api\/tiny\.api\.txt yet: run node scripts\/api-report\.mjs --write/,
    );
    assert.match(output, /api\/gone\.api\.txt belongs to no package under packages\//);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
