import { TensorError } from '../errors.js';
import { createJsBackend } from './js/index.js';
import type { Backend, BackendFactory } from './types.js';

interface Entry {
  factory: BackendFactory;
  priority: number;
  instance?: Backend;
  pending?: Promise<Backend>;
}

// The reference backend is always registered, at the lowest priority.
const entries = new Map<string, Entry>([['js', { factory: () => createJsBackend(), priority: 0 }]]);
let active: Backend | undefined;

/**
 * Registers a backend factory under `name`. Without an explicit `setBackend`, the registered
 * backend of highest priority whose factory is synchronous becomes active on first use
 * (`webgpu` 30 > `cpu` 20 > `js` 0 by convention). Registering a name again replaces it.
 *
 * @example
 * ```ts
 * registerBackend('cpu', () => createCpuBackend(), 20);
 * ```
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  entries.get(name)?.instance?.releasePool?.();
  entries.set(name, { factory, priority });
  if (active?.name === name) active = undefined;
}

/** Names of the registered backends, highest priority first. */
export function listBackends(): string[] {
  return [...entries.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
}

/** Returns the backend instance registered as `name`, creating it (awaiting async factories). */
export async function initBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) {
    throw new TensorError(
      'backend',
      `unknown backend '${name}'; registered: ${listBackends().join(', ') || 'none'}`,
    );
  }
  if (!entry.instance) {
    const made = await (entry.pending ?? entry.factory());
    // getBackend() may have created an instance synchronously while we awaited: keep that one,
    // so tensors made before and after setBackend share one backend
    entry.instance ??= made;
  }
  return entry.instance;
}

/**
 * Makes `name` the active backend for new tensors and returns it.
 *
 * @example
 * ```ts
 * await setBackend('js');
 * ```
 */
export async function setBackend(name: string): Promise<Backend> {
  active = await initBackend(name);
  return active;
}

/**
 * Returns the active backend: the one set with `setBackend`, else the highest-priority registered
 * backend that can be created synchronously.
 */
export function getBackend(): Backend {
  if (active) return active;
  for (const name of listBackends()) {
    const entry = entries.get(name)!;
    if (entry.pending && !entry.instance) continue;
    if (!entry.instance) {
      const made = entry.factory();
      if (made instanceof Promise) {
        // Asynchronous backends (WebGPU) start initialising now and need `await setBackend`.
        entry.pending = made;
        made.then(
          (b) => {
            entry.instance ??= b;
          },
          () => undefined,
        );
        continue;
      }
      entry.instance = made;
    }
    active = entry.instance;
    return active;
  }
  throw new TensorError('backend', 'no backend is registered');
}

/** Returns the created instance of a registered backend by name (creating it if synchronous). */
export function findBackend(name: string): Backend {
  const entry = entries.get(name);
  if (!entry) throw new TensorError('backend', `unknown backend '${name}'`);
  if (!entry.instance) {
    const made = entry.factory();
    if (made instanceof Promise) {
      throw new TensorError('backend', `backend '${name}' is asynchronous: await setBackend first`);
    }
    entry.instance = made;
  }
  return entry.instance;
}
