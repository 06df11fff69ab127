import { RagError } from './errors.js';

/** Progress of a long operation: `done` of `total` units (documents, texts, vectors). */
export interface Progress {
  /** Units finished so far. */
  done: number;
  /** Units in the whole operation. */
  total: number;
}

/** Options every long operation (indexing, embedding, building HNSW) accepts. */
export interface LongOperationOptions {
  /** Called now and then (at most every few milliseconds) and once at the end. */
  onProgress?: (progress: Progress) => void;
  /** Stops the operation between two units; it then rejects with a `RagError` of code `aborted`. */
  signal?: AbortSignal;
}

/** Throws `RagError('aborted')` when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new RagError('aborted', `${what}: aborted`, { cause: signal.reason });
  }
}

const defer: (callback: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (callback) =>
        (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(callback)
    : (callback) => setTimeout(callback, 0);

/** Resolves on a later turn of the event loop, so that other work (searches, timers) runs. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => defer(resolve));
}

/**
 * Paces a long loop: `tick(done)` reports progress and yields to the event loop about every
 * `intervalMs` milliseconds, and checks the abort signal every call.
 */
export class Pacer {
  private last = Date.now();

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly options: LongOperationOptions,
    private readonly intervalMs = 20,
  ) {}

  /** Call after each unit; awaits only when it is time to yield. */
  async tick(done: number): Promise<void> {
    throwIfAborted(this.options.signal, this.what);
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.options.onProgress?.({ done, total: this.total });
    await yieldToEventLoop();
    throwIfAborted(this.options.signal, this.what);
  }

  /** Call once at the end. */
  finish(): void {
    this.options.onProgress?.({ done: this.total, total: this.total });
  }
}
