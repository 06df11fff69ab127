import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, as users run it (turbo builds it before the tests). */
const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Runs `llmkit ...args` in a child process and returns its exit status and output. */
export function llmkit(...args: string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The last line of a `--json` run: its summary object. */
export function lastJson(stdout: string): Record<string, number> {
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}
