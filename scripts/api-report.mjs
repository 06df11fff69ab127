#!/usr/bin/env node
// The API report: every name each package's entry points export, read from the built .d.ts files
// with the TypeScript compiler API, one sorted `kind name` line each, checked in under api/.
//
//   node scripts/api-report.mjs            print the export count of every entry point
//   node scripts/api-report.mjs --list     print the whole report to stdout
//   node scripts/api-report.mjs --write    write api/<package>.api.txt for every package
//   node scripts/api-report.mjs --check    fail, with a diff, where the built surface differs
//   (--root=DIR: another repository layout, for the script's own test)
//
// Packages are found from packages/*/package.json: each key of `exports` whose target names a
// `types` file is an entry point ("./package.json" and other plain files are not). Build first
// (`pnpm build`, or `pnpm typecheck`, which builds the dependencies): the report reads dist/.
// It records names and kinds, not signatures: a renamed, added or removed export shows up as a
// diff; a changed parameter type does not.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const argv = process.argv.slice(2);
const rootOption = argv.find((arg) => arg.startsWith('--root='));
// --root=DIR reads DIR/packages and DIR/api instead of this repository's (the script's test uses it)
const root = rootOption
  ? resolve(rootOption.slice('--root='.length))
  : join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const apiDir = join(root, 'api');

/** Each package folder with a package.json, sorted by folder name. */
function discoverPackages() {
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && existsSync(join(packagesDir, entry.name, 'package.json')),
    )
    .map((entry) => {
      const folder = join(packagesDir, entry.name);
      const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
      return { folder, short: entry.name, name: manifest.name, entries: entryPoints(manifest) };
    })
    .filter((pkg) => pkg.entries.length > 0)
    .sort((a, b) => a.short.localeCompare(b.short));
}

/** `[{ subpath: '.', types: './dist/index.d.ts' }, ...]` from a package.json's `exports`. */
function entryPoints(manifest) {
  const exportsField = manifest.exports;
  if (exportsField === undefined) {
    return manifest.types ? [{ subpath: '.', types: manifest.types }] : [];
  }
  if (typeof exportsField === 'string') return [];
  const entries = [];
  for (const [subpath, target] of Object.entries(exportsField)) {
    const types = typesOf(target);
    if (types !== undefined) entries.push({ subpath, types });
  }
  return entries.sort((a, b) =>
    a.subpath === '.' ? -1 : b.subpath === '.' ? 1 : a.subpath.localeCompare(b.subpath),
  );
}

/** The `types` file of one `exports` target (nested conditions searched depth first). */
function typesOf(target) {
  if (target === null || typeof target !== 'object') return undefined;
  if (typeof target.types === 'string') return target.types;
  for (const value of Object.values(target)) {
    const found = typesOf(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What a symbol is, as one word (or several joined by `+`: a class may share a name with a namespace). */
function kindOf(symbol) {
  const f = symbol.flags;
  const kinds = [];
  if (f & ts.SymbolFlags.Class) kinds.push('class');
  if (f & ts.SymbolFlags.Function) kinds.push('function');
  if (f & ts.SymbolFlags.Enum) kinds.push('enum');
  if (f & ts.SymbolFlags.Variable) kinds.push(variableKind(symbol));
  if (f & ts.SymbolFlags.Interface && !(f & ts.SymbolFlags.Class)) kinds.push('interface');
  if (f & ts.SymbolFlags.TypeAlias) kinds.push('type');
  if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule) && kinds.length === 0) {
    kinds.push('namespace');
  }
  return kinds.length > 0 ? kinds.join('+') : 'unknown';
}

/** `const`, `let` or `var` from a variable's declaration list. */
function variableKind(symbol) {
  const declaration = symbol.declarations?.find(ts.isVariableDeclaration);
  const list = declaration?.parent;
  if (list && ts.isVariableDeclarationList(list)) {
    if (list.flags & ts.NodeFlags.Const) return 'const';
    if (list.flags & ts.NodeFlags.Let) return 'let';
  }
  return 'var';
}

/** Reads every entry point of every package; one program for all, so shared files parse once. */
function readSurfaces(packages, strict) {
  const files = [];
  const missing = [];
  for (const pkg of packages) {
    for (const entry of pkg.entries) {
      entry.file = join(pkg.folder, entry.types);
      if (existsSync(entry.file)) files.push(entry.file);
      else
        missing.push(
          `${pkg.name}${entry.subpath === '.' ? '' : entry.subpath.slice(1)}: ${relative(root, entry.file)}`,
        );
    }
  }
  if (missing.length > 0) {
    console.error(`api-report: not built (run \`pnpm build\` first):\n  ${missing.join('\n  ')}`);
    if (strict) process.exit(2);
  }
  const program = ts.createProgram(files, {
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  });
  const checker = program.getTypeChecker();
  for (const pkg of packages) {
    for (const entry of pkg.entries) {
      const source = program.getSourceFile(entry.file);
      const moduleSymbol = source && checker.getSymbolAtLocation(source);
      if (!moduleSymbol) {
        entry.exports = undefined; // not built (or not a module): listed as such
        continue;
      }
      entry.exports = checker
        .getExportsOfModule(moduleSymbol)
        .map((symbol) => {
          const target =
            symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
          return { name: symbol.getName(), kind: kindOf(target) };
        })
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
  }
}

/** The checked-in text of one package: a heading per entry point, then `kind name` lines. */
function reportText(pkg) {
  const lines = [
    `# API report of ${pkg.name}: generated by scripts/api-report.mjs from the built .d.ts files.`,
    '# Do not edit: after a reviewed change of the public surface, run node scripts/api-report.mjs --write.',
  ];
  for (const entry of pkg.entries) {
    const specifier = entry.subpath === '.' ? pkg.name : `${pkg.name}${entry.subpath.slice(1)}`;
    if (entry.exports === undefined) {
      lines.push('', `## ${specifier} (not built)`);
      continue;
    }
    lines.push('', `## ${specifier} (${entry.exports.length} exports)`);
    for (const item of entry.exports) lines.push(`${item.kind} ${item.name}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A unified-style line diff (longest common subsequence; reports are a few hundred lines). */
function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      if (a[i].startsWith('## ')) out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push(`+ ${b[j++]}`);
    } else {
      out.push(`- ${a[i++]}`);
    }
  }
  // Keep the entry-point headings only where a change follows them.
  return out.filter(
    (line, k) => !line.startsWith('  ## ') || (out[k + 1] && !out[k + 1].startsWith('  ')),
  );
}

const args = new Set(argv.filter((arg) => arg !== rootOption));
const known = new Set(['--write', '--check', '--list']);
for (const arg of args) {
  if (!known.has(arg)) {
    console.error(
      `api-report: unknown option ${arg}; expected one of ${[...known].join(', ')}, --root=DIR`,
    );
    process.exit(2);
  }
}

const packages = discoverPackages();
readSurfaces(packages, args.has('--write') || args.has('--check'));

if (args.has('--write')) {
  mkdirSync(apiDir, { recursive: true });
  for (const pkg of packages) {
    const file = join(apiDir, `${pkg.short}.api.txt`);
    const text = reportText(pkg);
    const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (old !== text) writeFileSync(file, text);
    console.log(`${old === text ? 'unchanged' : 'wrote    '} ${relative(root, file)}`);
  }
} else if (args.has('--check')) {
  let failed = false;
  for (const pkg of packages) {
    const file = join(apiDir, `${pkg.short}.api.txt`);
    const text = reportText(pkg);
    if (!existsSync(file)) {
      failed = true;
      console.error(
        `api-report: ${pkg.name} has no report file ${relative(root, file)} yet: run node scripts/api-report.mjs --write, review it and commit it.`,
      );
      continue;
    }
    const old = readFileSync(file, 'utf8');
    if (old === text) continue;
    failed = true;
    console.error(
      `api-report: the public surface of ${pkg.name} differs from ${relative(root, file)} (- in the file, + in the build):`,
    );
    for (const line of lineDiff(old, text)) console.error(`  ${line}`);
  }
  const reported = new Set(packages.map((pkg) => `${pkg.short}.api.txt`));
  if (existsSync(apiDir)) {
    for (const name of readdirSync(apiDir)) {
      if (name.endsWith('.api.txt') && !reported.has(name)) {
        failed = true;
        console.error(`api-report: api/${name} belongs to no package under packages/: delete it.`);
      }
    }
  }
  if (failed) {
    console.error(
      '\napi-report: if the change is intended, run node scripts/api-report.mjs --write and commit api/ with it.',
    );
    process.exit(1);
  }
  console.log(`api-report: ${packages.length} packages match api/.`);
} else if (args.has('--list')) {
  for (const pkg of packages) console.log(reportText(pkg));
} else {
  for (const pkg of packages) {
    for (const entry of pkg.entries) {
      const specifier = entry.subpath === '.' ? pkg.name : `${pkg.name}${entry.subpath.slice(1)}`;
      const count = entry.exports === undefined ? 'n/a' : String(entry.exports.length);
      console.log(`${count.padStart(5)}  ${specifier}`);
    }
  }
}
