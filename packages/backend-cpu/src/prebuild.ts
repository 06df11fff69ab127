// Finds the addon file to load: a prebuilt binary shipped in `prebuilds/<platform>-<arch>/`
// (node-gyp-build's layout), or the one compiled from source into `build/Release/`.
//
// File names carry tags between the addon name and `.node`, e.g.
// `prebuilds/linux-x64/llmkit_cpu.glibc.napi8.node`: `glibc` / `musl` is the C library it links
// against (absent: any), `napi<N>` the Node-API version it was compiled for (it loads on any Node
// whose `process.versions.napi` is at least N). Among those that fit, the highest N wins.
//
// No imports beyond node:*, so the install script (scripts/build-addon.mjs) can use it from dist
// before any dependency is resolved.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What decides whether a prebuilt addon fits this process. */
export interface AddonRuntime {
  /** `process.platform`, e.g. `linux`. */
  platform: string;
  /** `process.arch`, e.g. `x64`, `arm64`. */
  arch: string;
  /** The C library on Linux (`glibc` or `musl`); undefined elsewhere. */
  libc: 'glibc' | 'musl' | undefined;
  /** Highest Node-API version this Node supports (`process.versions.napi`). */
  napi: number;
}

/** The runtime of this process. */
export function currentRuntime(): AddonRuntime {
  let libc: AddonRuntime['libc'];
  if (process.platform === 'linux') {
    // glibc reports its version in the diagnostic report header; musl builds of Node do not.
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
      ?.header;
    libc = header?.glibcVersionRuntime ? 'glibc' : 'musl';
  }
  return {
    platform: process.platform,
    arch: process.arch,
    libc,
    napi: Number(process.versions.napi),
  };
}

/** The folder, relative to the package root, that holds prebuilds for a platform and arch. */
export function prebuildFolder(platform: string, arch: string): string {
  return join('prebuilds', `${platform}-${arch}`);
}

/**
 * The file name a prebuild of `name` gets: `prebuildFileName('llmkit_cpu', 'glibc', 8)` ->
 * `llmkit_cpu.glibc.napi8.node`.
 */
export function prebuildFileName(name: string, libc: string | undefined, napi: number): string {
  return [name, ...(libc ? [libc] : []), `napi${napi}`, 'node'].join('.');
}

/**
 * Picks the file among `files` (names in one `prebuilds/<platform>-<arch>/` folder) that fits
 * `runtime`, or undefined: `selectPrebuild(['a.glibc.napi8.node', 'a.musl.napi8.node'], 'a',
 * { libc: 'musl', napi: 9, ... })` -> `'a.musl.napi8.node'`.
 */
export function selectPrebuild(
  files: readonly string[],
  name: string,
  runtime: AddonRuntime,
): string | undefined {
  let best: { file: string; napi: number } | undefined;
  for (const file of files) {
    if (!file.startsWith(`${name}.`) || !file.endsWith('.node')) continue;
    const tags = file.slice(name.length + 1, -'.node'.length).split('.');
    let napi: number | undefined;
    let fits = true;
    for (const tag of tags) {
      const version = /^napi(\d+)$/.exec(tag);
      if (version) napi = Number(version[1]);
      else if (tag === 'glibc' || tag === 'musl') fits &&= tag === runtime.libc;
      else fits = false; // a tag this loader does not know: not for us
    }
    if (!fits || napi === undefined || napi > runtime.napi) continue;
    if (!best || napi > best.napi) best = { file, napi };
  }
  return best?.file;
}

/** Where {@link findPrebuild} found an addon, or why it found none. */
export type PrebuildLookup = { path: string } | { path?: undefined; reason: string };

/**
 * Looks for a prebuild of `name` that fits `runtime` under `packageRoot`; the reason says which
 * folder it looked in and what it needed.
 */
export function findPrebuild(
  packageRoot: string,
  name: string,
  runtime: AddonRuntime = currentRuntime(),
): PrebuildLookup {
  const folder = prebuildFolder(runtime.platform, runtime.arch);
  const wanted = `${runtime.platform}-${runtime.arch}${runtime.libc ? ` (${runtime.libc})` : ''}, Node-API <= ${runtime.napi}`;
  const absolute = join(packageRoot, folder);
  if (!existsSync(absolute)) return { reason: `no prebuilt addon for ${wanted} (no ${folder}/)` };
  const file = selectPrebuild(readdirSync(absolute), name, runtime);
  if (!file) return { reason: `no prebuilt addon in ${folder}/ fits ${wanted}` };
  return { path: join(absolute, file) };
}
