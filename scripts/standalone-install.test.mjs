// The README parsing of scripts/standalone-install.mjs (run by `pnpm test:standalone` first).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstBlock, importedPackages, installedNames, section } from './standalone-install.mjs';

const readme = `# @llmkit/x

## Install

\`\`\`sh
npm i @llmkit/x @llmkit/core-tensor   # both
\`\`\`

## Example: a tiny one

\`\`\`ts
import { a } from '@llmkit/x';
import type { T } from '@llmkit/core-tensor/backend';
import '@llmkit/x/register';
import { readFileSync } from 'node:fs';
import path from 'path';
console.log(a); // 1
\`\`\`

\`\`\`ts
second();
\`\`\`

## Example: another

\`\`\`ts
third();
\`\`\`
`;

test('section takes the first section of a title, with or without a subtitle', () => {
  assert.match(section(readme, 'Install'), /npm i/);
  assert.match(section(readme, 'Example'), /console\.log\(a\)/);
  assert.doesNotMatch(section(readme, 'Example'), /third/);
  assert.equal(section(readme, 'Usage'), undefined);
});

test('firstBlock takes the first fenced block of a language', () => {
  assert.equal(
    firstBlock(section(readme, 'Example'), ['ts']).split('\n')[0],
    "import { a } from '@llmkit/x';",
  );
  assert.equal(firstBlock(section(readme, 'Install'), ['ts']), undefined);
});

test('installedNames reads the npm i line without comments or flags', () => {
  assert.deepEqual(installedNames(firstBlock(section(readme, 'Install'), ['sh'])), [
    '@llmkit/x',
    '@llmkit/core-tensor',
  ]);
  assert.deepEqual(installedNames('npm install --save-exact a b@1'), ['a', 'b@1']);
  assert.equal(installedNames('pip install x'), undefined);
});

test('importedPackages names packages, not subpaths, builtins or relative files', () => {
  const code = firstBlock(section(readme, 'Example'), ['ts']);
  assert.deepEqual(importedPackages(code), ['@llmkit/x', '@llmkit/core-tensor']);
  assert.deepEqual(importedPackages("import x from './x.js';\nimport y from 'lodash/fp';"), [
    'lodash',
  ]);
});
