import { getBackend, setBackend } from '@llmkit/core-tensor';
import { CliError } from './cli-error.js';

/**
 * Registers the optional backend packages that are installed (each registers itself if it can
 * run here, or says in one line why not) and switches to `name`, or to the best available.
 */
export async function chooseBackend(name: string | undefined): Promise<string> {
  // imported by name at run time: a backend that is not built or cannot load leaves js in use
  const load = (specifier: string) => import(specifier).catch(() => undefined);
  if (name === undefined || name === 'cpu') await load('@llmkit/backend-cpu/register');
  if (name === 'webgpu') await load('@llmkit/backend-gpu/register');
  if (name) {
    try {
      await setBackend(name);
    } catch (error) {
      throw new CliError(`--backend ${name}: ${(error as Error).message}`);
    }
  }
  return getBackend().name;
}
