import { getBackend } from './backend/registry.js';
import type { Backend } from './backend/types.js';
import { engineCounters } from './engine.js';

/** What {@link memory} reports. */
export interface MemoryInfo {
  /** Live tensors (views included). */
  tensors: number;
  /** Live storages (buffers held by tensors, across all backends). */
  storages: number;
  /** Buffers the backend has allocated and not freed. */
  buffers: number;
  /** Bytes of those buffers. */
  bytes: number;
  /** Freed buffers the backend keeps for reuse. */
  pooledBuffers: number;
  /** Bytes of the pooled buffers. */
  pooledBytes: number;
}

/**
 * Live tensors and buffers, for leak checks: a training step inside `tidy` leaves these flat.
 *
 * @example
 * ```ts
 * console.log(memory().buffers);
 * ```
 */
export function memory(backend: Backend = getBackend()): MemoryInfo {
  return { ...engineCounters(), ...backend.memory() };
}
