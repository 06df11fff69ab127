#!/usr/bin/env node
// Every package installs on its own: packs each publishable package (packages/*/package.json
// without `"private": true`) with `pnpm pack` (which turns `workspace:*` into versions and runs
// prepack, e.g. backend-cpu's prebuilds), then for each package, in its own empty folder outside
// the workspace, runs the README's install line with plain `npm install` (@llmkit/* from the local
// tarballs, everything else from the registry, one shared npm cache) and runs the README's example
// verbatim (the first ```ts block of its `## Example` section, transpiled by TypeScript's
// transpileModule since Node 20 cannot strip types).
//
//   node scripts/standalone-install.mjs [--only tokenizer,rag] [--jobs 3] [--keep]
//
// A package fails when: its tarball lacks a file its package.json points at or still says
// `workspace:`; the README has no install line or example, or the install line leaves out the
// package or something the example imports; `npm install` fails; the example exits non-zero or
// an llmkit package warns on stderr (a backend falling back); a package that ships prebuilds
// lacks this machine's or compiled at install.
// Expects the packages to be built (`dist/`): `pnpm check` runs it after `pnpm test`, which builds.
// Output: a table, then one JSON line; exit code 1 when any package failed.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(join(root, 'package.json'))('typescript');

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    jobs: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});

/** Runs a command; resolves with its exit code and output (never rejects). */
function run(command, args, options = {}) {
  const { timeout = 300_000, ...rest } = options;
  return new Promise((done) => {
    const child = spawn(command, args, { ...rest, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      done({ code: -1, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({
        code: code ?? -1,
        stdout,
        stderr: signal ? `${stderr}killed by ${signal} after ${timeout / 1000} s` : stderr,
      });
    });
  });
}

/** Runs `task` over `items`, at most `jobs` at a time, keeping the order of results. */
async function pool(items, jobs, task) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return results;
}

/**
 * The text of the first README section titled `title` (`## Install`; also `## Example: a tiny
 * model` for 'Example'), up to the next `## ` heading.
 */
export function section(markdown, title) {
  const lines = markdown.split('\n');
  const heading = new RegExp(`^## ${title}s?(:.*)?$`, 'i');
  const start = lines.findIndex((line) => heading.test(line.trim()));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && /^## /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The first fenced block of one of `languages` in `text`. */
export function firstBlock(text, languages) {
  const match = new RegExp(
    `^\`\`\`(?:${languages.join('|')})\\s*\\n([\\s\\S]*?)^\`\`\`\\s*$`,
    'm',
  ).exec(text ?? '');
  return match?.[1];
}

/** Package names of the first `npm i` / `npm install` line: `npm i a b # why` -> ['a', 'b']. */
export function installedNames(block) {
  for (const line of (block ?? '').split('\n')) {
    const match = /^\s*npm\s+(?:i|install|add)\s+(.*)$/.exec(line);
    if (match)
      return match[1]
        .replace(/#.*$/, '')
        .trim()
        .split(/\s+/)
        .filter((word) => word && !word.startsWith('-'));
  }
  return undefined;
}

/** Bare module specifiers an ES module imports: `import x from '@a/b/c'` -> '@a/b'. */
export function importedPackages(code) {
  const names = new Set();
  for (const match of code.matchAll(
    /(?:^|[\s;])(?:import|export)\s*(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]/g,
  )) {
    const specifier = match[1];
    if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:'))
      continue;
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    if (!builtinModules.includes(name)) names.add(name);
  }
  return [...names];
}

/** Every file a package.json points at (main, types, exports targets), without `./`. */
function pointedFiles(manifest) {
  const files = new Set([manifest.main, manifest.types].filter(Boolean));
  const walk = (value) => {
    if (typeof value === 'string') files.add(value);
    else if (value && typeof value === 'object')
      for (const inner of Object.values(value)) walk(inner);
  };
  walk(manifest.exports);
  return [...files].filter((file) => !file.includes('*')).map((file) => file.replace(/^\.\//, ''));
}

/** The environment of a plain `npm install` / `node`: without pnpm's and npm's lifecycle variables. */
function plainEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|NODE_PATH$|LLMKIT_|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
}

function discover() {
  const packages = [];
  for (const folder of readdirSync(join(root, 'packages')).sort()) {
    const path = join(root, 'packages', folder, 'package.json');
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    if (manifest.private) continue;
    packages.push({ folder, dir: dirname(path), name: manifest.name, manifest });
  }
  return packages;
}

/** Packs one package and checks the tarball; returns { tarball, problems }. */
async function pack(pkg, destination) {
  const problems = [];
  destination = join(destination, pkg.folder);
  mkdirSync(destination);
  const result = await run('pnpm', ['pack', '--pack-destination', destination], {
    cwd: pkg.dir,
    timeout: 600_000,
  });
  const made = readdirSync(destination).filter((file) => file.endsWith('.tgz'));
  if (result.code !== 0 || made.length !== 1) {
    return {
      problems: [
        `pnpm pack failed: ${`${result.stdout}${result.stderr}`.trim().split('\n').slice(-15).join('\n')}`,
      ],
    };
  }
  const tarball = join(destination, made[0]);
  const listing = new Set(
    (await run('tar', ['-tzf', tarball])).stdout
      .split('\n')
      .map((line) => line.replace(/^package\//, '')),
  );
  const manifest = JSON.parse(
    (await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout,
  );
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, spec] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|link|file):/.test(spec))
        problems.push(`tarball's ${field} keeps ${name}@${spec}`);
    }
  }
  for (const file of pointedFiles(manifest)) {
    if (!listing.has(file))
      problems.push(`package.json points at ${file}, which the tarball lacks (see "files")`);
  }
  if (!listing.has('README.md')) problems.push('the tarball has no README.md');
  return { tarball, problems };
}

/** Installs the README's install line in an empty folder and runs its example there. */
async function tryPackage(pkg, tarballs, workRoot) {
  const started = performance.now();
  const problems = [];
  if (!existsSync(join(pkg.dir, 'README.md'))) return { problems: ['no README.md'], seconds: 0 };
  const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
  const names = installedNames(firstBlock(section(readme, 'Install'), ['sh', 'bash', 'shell']));
  const example = firstBlock(section(readme, 'Example'), ['ts', 'typescript']);
  if (!names)
    problems.push('README has no `npm i ...` line in a ```sh block of its ## Install section');
  if (!example) problems.push('README has no ```ts block in its ## Example section');
  if (problems.length) return { problems, seconds: 0 };
  if (!names.includes(pkg.name))
    problems.push(`README's install line (npm i ${names.join(' ')}) leaves out ${pkg.name}`);

  const code = ts.transpileModule(example, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
    },
  }).outputText;
  for (const name of importedPackages(code)) {
    if (!names.includes(name))
      problems.push(
        `the example imports ${name}, which the README's install line does not install`,
      );
  }

  const dir = join(workRoot, pkg.folder);
  mkdirSync(dir);
  const dependencies = {};
  for (const word of names) {
    const at = word.lastIndexOf('@');
    const [name, spec] = at > 0 ? [word.slice(0, at), word.slice(at + 1)] : [word, 'latest'];
    dependencies[name] = tarballs.has(name) ? `file:${tarballs.get(name)}` : spec;
  }
  // @llmkit/* that a package depends on come from the tarballs too, never from the registry.
  const overrides = {};
  for (const [name, tarball] of tarballs)
    overrides[name] = dependencies[name] ? `$${name}` : `file:${tarball}`;
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `standalone-${pkg.folder}`, private: true, type: 'module', dependencies, overrides }, null, 2)}\n`,
  );
  const env = plainEnv();
  const install = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    {
      cwd: dir,
      env,
      timeout: 600_000,
    },
  );
  const installSeconds = (performance.now() - started) / 1000;
  if (install.code !== 0) {
    problems.push(
      `npm install failed:\n${`${install.stdout}${install.stderr}`.trim().split('\n').slice(-20).join('\n')}`,
    );
    return { problems, seconds: installSeconds, installSeconds };
  }
  for (const name of names.filter((n) => tarballs.has(n))) {
    const installed = join(dir, 'node_modules', name);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    if (!manifest.files?.includes('prebuilds')) continue;
    // Prebuilds are made for linux-x64 and linux-arm64: there the tarball must hold this
    // machine's, and the install must not have compiled.
    const target = `${process.platform}-${process.arch}`;
    if (!['linux-x64', 'linux-arm64'].includes(target)) continue;
    if (!existsSync(join(installed, 'prebuilds', target))) {
      problems.push(`${name}'s tarball has no prebuilds/${target}/`);
    } else if (existsSync(join(installed, 'build'))) {
      const log = join(installed, 'build', 'install.log');
      const tail = existsSync(log)
        ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n')
        : '';
      problems.push(`${name} ships prebuilds but compiled from source at install:\n${tail}`);
    }
  }

  writeFileSync(join(dir, 'example.mjs'), code);
  const example_ = await run(process.execPath, ['example.mjs'], {
    cwd: dir,
    env,
    timeout: 300_000,
  });
  const stderr = example_.stderr
    .split('\n')
    .filter((line) => line.trim() && !/ExperimentalWarning|--trace-warnings/.test(line))
    .join('\n');
  // llmkit's own warnings (a backend falling back) fail the example; what a dependency's native
  // code prints (Dawn: "Couldn't load Vulkan") is shown, not judged.
  const ours = stderr.split('\n').filter((line) => line.startsWith('@llmkit/'));
  if (example_.code !== 0)
    problems.push(
      `the example exited with ${example_.code}:\n${stderr.split('\n').slice(-15).join('\n')}`,
    );
  else if (ours.length) problems.push(`the example warned:\n${ours.join('\n')}`);
  return {
    problems,
    installSeconds,
    seconds: (performance.now() - started) / 1000,
    output: example_.stdout.trim(),
    stderr: example_.code === 0 && !ours.length ? stderr : undefined,
  };
}

async function main() {
  const started = performance.now();
  const all = discover();
  const only = values.only?.split(',');
  const packages = only ? all.filter((p) => only.includes(p.folder) || only.includes(p.name)) : all;
  if (packages.length === 0)
    throw new Error(`no publishable package matches --only ${values.only}`);
  for (const pkg of packages) {
    if (!existsSync(join(pkg.dir, 'dist')))
      throw new Error(`${pkg.name} is not built (no dist/): run pnpm build first`);
  }
  const workRoot = mkdtempSync(join(tmpdir(), 'llmkit-standalone-'));
  for (let dir = dirname(workRoot); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules')))
      throw new Error(`${dir}/node_modules would leak into the installs`);
    if (dir === dirname(dir)) break;
  }
  const tarballDir = join(workRoot, 'tarballs');
  mkdirSync(tarballDir);
  const jobs = Math.max(1, Number(values.jobs));
  try {
    // The packages tried and every @llmkit package they or their README's install lines need.
    const needed = new Set(packages.map((pkg) => pkg.name));
    for (const name of needed) {
      const pkg = all.find((candidate) => candidate.name === name);
      if (!pkg) continue;
      const readme = existsSync(join(pkg.dir, 'README.md'))
        ? readFileSync(join(pkg.dir, 'README.md'), 'utf8')
        : '';
      const install =
        installedNames(firstBlock(section(readme, 'Install'), ['sh', 'bash', 'shell'])) ?? [];
      for (const dependency of [...Object.keys(pkg.manifest.dependencies ?? {}), ...install]) {
        if (dependency.startsWith('@llmkit/')) needed.add(dependency);
      }
    }
    const toPack = all.filter((pkg) => needed.has(pkg.name));
    const packed = await pool(toPack, jobs, (pkg) => pack(pkg, tarballDir));
    const packSeconds = (performance.now() - started) / 1000;
    const tarballs = new Map();
    toPack.forEach((pkg, i) => {
      if (packed[i].tarball) tarballs.set(pkg.name, packed[i].tarball);
    });
    const tried = await pool(packages, jobs, async (pkg) => {
      const packProblems = packed[toPack.indexOf(pkg)].problems;
      if (!tarballs.has(pkg.name)) return { problems: packProblems, seconds: 0 };
      const result = await tryPackage(pkg, tarballs, workRoot);
      return { ...result, problems: [...packProblems, ...result.problems] };
    });

    console.log(`\nstandalone install (${workRoot}, packed in ${packSeconds.toFixed(1)} s):\n`);
    console.log('| package | npm install, s | install + example, s | result |');
    console.log('| --- | --- | --- | --- |');
    packages.forEach((pkg, i) => {
      const result = tried[i];
      const verdict = result.problems.length ? `FAIL (${result.problems.length})` : 'ok';
      console.log(
        `| ${pkg.name} | ${result.installSeconds?.toFixed(1) ?? '-'} | ${result.seconds.toFixed(1)} | ${verdict} |`,
      );
    });
    for (const [i, pkg] of packages.entries()) {
      for (const problem of tried[i].problems) console.log(`\n${pkg.name}: ${problem}`);
      if (tried[i].stderr)
        console.log(`\n${pkg.name} passed; its dependencies wrote:\n${tried[i].stderr}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const failed = packages.filter((_, i) => tried[i].problems.length).map((pkg) => pkg.name);
    console.log(`\ntotal ${seconds.toFixed(1)} s`);
    console.log(
      JSON.stringify({
        seconds: Number(seconds.toFixed(1)),
        packSeconds: Number(packSeconds.toFixed(1)),
        packages: packages.map((pkg, i) => ({
          name: pkg.name,
          ok: tried[i].problems.length === 0,
          seconds: Number(tried[i].seconds.toFixed(1)),
          problems: tried[i].problems,
          output: tried[i].output,
        })),
        failed,
      }),
    );
    process.exitCode = failed.length ? 1 : 0;
  } finally {
    if (values.keep) console.log(`kept ${workRoot}`);
    else rmSync(workRoot, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`standalone-install: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
