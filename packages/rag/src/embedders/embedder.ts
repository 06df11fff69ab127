import type { LongOperationOptions } from '../progress.js';

/**
 * Turns texts into vectors. Every embedder (an HTTP server, an llmkit encoder model, your own
 * function) has this shape, so indexes and stores do not care where vectors come from.
 *
 * @example
 * ```ts
 * const embedder: Embedder = { embed: async (texts) => texts.map((t) => new Float32Array([t.length, 1])) };
 * ```
 */
export interface Embedder {
  /** One vector per text, in order. Long inputs report progress and stop on abort. */
  embed(texts: string[], options?: LongOperationOptions): Promise<Float32Array[]>;
  /** Vector length, when known before the first call. */
  readonly dimension?: number;
}
