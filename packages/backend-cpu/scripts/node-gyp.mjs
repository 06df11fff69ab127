// How the scripts of this package run node-gyp: which node-gyp, and which Node headers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The prefix this Node is installed under (`/usr` for /usr/bin/node). */
export const nodePrefix = dirname(dirname(process.execPath));

/**
 * The command that runs node-gyp, as [command, ...leading args]: pnpm and npm put their bundled
 * node-gyp on PATH for lifecycle scripts; outside them, the one bundled with npm next to this Node.
 */
export function nodeGypCommand() {
  const probe = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  if (probe.status === 0) return ['node-gyp'];
  const bundled = join(nodePrefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin');
  return [process.execPath, join(bundled, 'node-gyp.js')];
}

/**
 * The folder holding Node's headers (`<dir>/include/node/node_api.h`) node-gyp should use, or
 * undefined to let node-gyp find (or download) them. Offline-safe: when npm's `nodedir` is not
 * configured, the headers that ship with this Node.
 */
export function nodeHeadersDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  return existsSync(join(nodePrefix, 'include', 'node', 'node_api.h')) ? nodePrefix : undefined;
}
