// Shared engine state: buffer storage with reference counts, tidy scopes and live counts.
import type { Backend, BackendBuffer } from './backend/types.js';
import { TensorError } from './errors.js';

/**
 * A backend buffer shared by a tensor and its views. Freed (returned to the backend's pool) when
 * the last tensor holding it is disposed.
 */
export class Storage {
  refs = 1;

  constructor(
    readonly backend: Backend,
    readonly buffer: BackendBuffer,
  ) {
    state.storages++;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (this.refs <= 0) throw new TensorError('disposed', 'storage released twice');
    this.refs--;
    if (this.refs === 0) {
      state.storages--;
      this.backend.free(this.buffer);
    }
  }
}

/** Something a tidy scope can dispose. */
export interface Disposable {
  /** True once disposed. */
  readonly disposed: boolean;
  /** Frees the object's memory. */
  dispose(): void;
}

const state = {
  storages: 0,
  tensors: 0,
  scopes: [] as Set<Disposable>[],
};

/** Engine counters, read by `memory()`. */
export function engineCounters(): { storages: number; tensors: number } {
  return { storages: state.storages, tensors: state.tensors };
}

/** Called by every new tensor: counts it and registers it with the innermost tidy scope. */
export function trackTensor(t: Disposable): void {
  state.tensors++;
  const scope = state.scopes[state.scopes.length - 1];
  if (scope) scope.add(t);
}

/** Called when a tensor is disposed. */
export function untrackTensor(): void {
  state.tensors--;
}

/** Removes `t` from every open tidy scope so it outlives them. */
export function keep<T extends Disposable>(t: T): T {
  for (const scope of state.scopes) scope.delete(t);
  return t;
}

function collect(value: unknown, into: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if ('dispose' in value && 'disposed' in value) {
    into.add(value);
    return;
  }
  const items = Array.isArray(value)
    ? value
    : value instanceof Map
      ? [...value.values()]
      : Object.values(value);
  for (const item of items) collect(item, into, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor it created except those it returns (directly, or inside
 * arrays and plain objects). Scopes nest; a tensor returned from an inner scope belongs to the
 * outer one. Async functions are not supported: tidy a synchronous step and await outside.
 *
 * @example
 * ```ts
 * const y = tidy(() => x.mul(2).add(1).sum()); // the intermediate x*2 is freed
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  state.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    // A failed step must not leak what it made before throwing.
    state.scopes.pop();
    for (const t of scope) if (!t.disposed) t.dispose();
    throw error;
  }
  state.scopes.pop();
  if (result instanceof Promise) {
    throw new TensorError(
      'invalid_argument',
      'tidy: the function returned a Promise; tidy only synchronous code',
    );
  }
  const kept = new Set<unknown>();
  collect(result, kept);
  const outer = state.scopes[state.scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) outer?.add(t);
    else if (!t.disposed) t.dispose();
  }
  return result;
}

/** Disposes every tensor (or container of tensors) passed. */
export function dispose(value: unknown): void {
  const found = new Set<unknown>();
  collect(value, found);
  for (const t of found) if (!(t as Disposable).disposed) (t as Disposable).dispose();
}
