#!/usr/bin/env node
// Trains the playground's bundled model and writes it to public/model/: a character-level GPT
// (the shakespeare-char preset: 4 layers, 4 heads, 128 wide, block 64, 0.8M parameters) on Tiny
// Shakespeare. Usage: node apps/playground/scripts/train-model.mjs [tinyshakespeare.txt] [steps]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const data = process.argv[2] ?? join(root, '..', 'shared', 'data', 'tinyshakespeare.txt');
const steps = process.argv[3] ?? '800';
const out = join(mkdtempSync(join(tmpdir(), 'playground-model-')), 'run');
execFileSync(
  process.execPath,
  [
    join(root, 'apps/demo/dist/cli.js'),
    'train',
    '--data',
    data,
    '--preset',
    'shakespeare-char',
    '--max-steps',
    steps,
    '--out',
    out,
    '--json',
  ],
  { stdio: 'inherit' },
);
const target = join(here, '..', 'public', 'model');
copyFileSync(join(out, 'config.json'), join(target, 'config.json'));
copyFileSync(join(out, 'model.safetensors'), join(target, 'model.safetensors'));
const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
writeFileSync(join(target, 'tokenizer.json'), `${JSON.stringify(run.tokenizer)}\n`);
console.log(`wrote ${target}`);
