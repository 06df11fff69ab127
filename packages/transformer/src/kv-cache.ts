// The key/value cache for decoding. Each layer keeps the keys and values of every position seen so
// far, `[B, Hkv, S, D]`, so a decoding step only computes its new token; encoder-decoder models
// also keep each layer's cross-attention keys and values of the encoder output, computed once.
// Self-attention keys and values live in buffers with room for more positions (doubling when
// full), so a step writes only its new position and attention reads views of the buffers: no
// copy of the whole cache per token.
// Beside the tensors it tracks, per row, which cached positions are padding and the next position
// id, so left-padded batches keep working while they decode.
import {
  assign,
  dispose,
  fromValues,
  indexSelect,
  keep,
  narrow,
  noGrad,
  type Tensor,
  tidy,
  zeros,
} from '@llmkit/core-tensor';
import { TransformerError } from './errors.js';
import { positionIds } from './masks.js';

/** Keys and values of one attention layer, `[B, Hkv, S, D]` each. */
export interface KeyValue {
  /** Keys. */
  key: Tensor;
  /** Values. */
  value: Tensor;
}

/** A layer's keys and values in buffers `[B, Hkv, capacity, D]`; positions `[0, length)` are set. */
interface LayerBuffers extends KeyValue {
  length: number;
}

/** Positions a layer's first buffers hold at least. */
const MIN_CAPACITY = 32;

/**
 * A KV cache: pass one to a model's `forward` to reuse earlier positions. `generate` creates and
 * manages one; use it directly for custom decoding loops. It holds values, not autograd history:
 * it is for inference.
 *
 * @example
 * ```ts
 * const cache = new KVCache();
 * let { logits } = model.forward([[1, 2, 3]], { cache });  // prefill: 3 positions cached
 * ({ logits } = model.forward([[4]], { cache }));           // one new token, attends to all 4
 * cache.dispose();
 * ```
 */
export class KVCache {
  private readonly selfLayers: (LayerBuffers | undefined)[] = [];
  private readonly crossLayers: (KeyValue | undefined)[] = [];
  /** Per row, 1 for each cached position holding a real token and 0 for padding. */
  keyMask: number[][] = [];
  /** Per row, the position id the next real token gets. */
  nextPosition: number[] = [];
  /** Encoder-decoder models: per row, the padding of the encoder output (cross-attention keys). */
  crossMask: number[][] | undefined;

  /** Rows in the cache (0 before the first forward). */
  get batchSize(): number {
    return this.keyMask.length;
  }

  /** Cached positions per row. */
  get length(): number {
    return this.keyMask[0]?.length ?? 0;
  }

  /**
   * Records `mask` (B rows of T new columns) and returns the new columns' position ids and the
   * padding of all S = length + T keys. Call once per forward, before the layers append.
   */
  extend(mask: readonly (readonly number[])[]): { positions: number[][]; keyMask: number[][] } {
    if (this.batchSize === 0) {
      this.keyMask = mask.map(() => []);
      this.nextPosition = mask.map(() => 0);
    } else if (mask.length !== this.batchSize) {
      throw new TransformerError(
        'invalid_data',
        `KVCache holds ${this.batchSize} rows but the input has ${mask.length}; reorder() the cache first`,
      );
    }
    const positions = positionIds(mask, this.nextPosition);
    mask.forEach((row, b) => {
      this.keyMask[b].push(...row);
      this.nextPosition[b] += row.reduce((n, m) => n + (m ? 1 : 0), 0);
    });
    return { positions, keyMask: this.keyMask.map((row) => row.slice()) };
  }

  /** Appends a layer's new keys and values `[B, Hkv, T, D]`; returns all of them `[B, Hkv, S, D]`. */
  append(layer: number, key: Tensor, value: Tensor): KeyValue {
    const T = key.shape[2];
    let entry = this.selfLayers[layer];
    const length = entry?.length ?? 0;
    if (!entry || length + T > entry.key.shape[2]) {
      const capacity = Math.max(length + T, 2 * (entry?.key.shape[2] ?? 0), MIN_CAPACITY);
      const grown: LayerBuffers = {
        key: keep(moved(entry?.key, key, length, capacity)),
        value: keep(moved(entry?.value, value, length, capacity)),
        length,
      };
      if (entry) dispose([entry.key, entry.value]);
      entry = grown;
      this.selfLayers[layer] = entry;
    }
    const target = entry;
    tidy(() =>
      noGrad(() => {
        assign(narrow(target.key, 2, length, T), key);
        assign(narrow(target.value, 2, length, T), value);
      }),
    );
    target.length = length + T;
    return {
      key: narrow(target.key, 2, 0, target.length),
      value: narrow(target.value, 2, 0, target.length),
    };
  }

  /** The cross-attention keys and values of `layer`, if computed. */
  cross(layer: number): KeyValue | undefined {
    return this.crossLayers[layer];
  }

  /** Stores a layer's cross-attention keys and values (kept until the cache is disposed). */
  setCross(layer: number, entry: KeyValue): void {
    this.crossLayers[layer] = { key: keep(entry.key.detach()), value: keep(entry.value.detach()) };
  }

  /**
   * Rearranges rows: row i becomes old row `rows[i]` (rows may repeat or be dropped), as beam
   * search and finished sequences need.
   */
  reorder(rows: readonly number[]): void {
    const identity = rows.length === this.batchSize && rows.every((r, i) => r === i);
    if (identity) return;
    for (const r of rows) {
      if (!Number.isInteger(r) || r < 0 || r >= this.batchSize) {
        throw new TransformerError(
          'invalid_data',
          `KVCache.reorder: row ${r} is outside 0..${this.batchSize - 1}`,
        );
      }
    }
    const like = this.selfLayers.find(Boolean)?.key ?? this.crossLayers.find(Boolean)?.key;
    if (like) {
      const index = fromValues(Int32Array.from(rows), [rows.length], {
        dtype: 'int32',
        backend: like.backend.name,
      });
      for (const layers of [this.selfLayers, this.crossLayers] as (KeyValue | undefined)[][]) {
        layers.forEach((entry, i) => {
          if (!entry) return;
          layers[i] = {
            ...entry,
            key: keep(indexSelect(entry.key, 0, index)),
            value: keep(indexSelect(entry.value, 0, index)),
          };
          dispose([entry.key, entry.value]);
        });
      }
      index.dispose();
    }
    this.keyMask = rows.map((r) => this.keyMask[r].slice());
    this.nextPosition = rows.map((r) => this.nextPosition[r]);
    if (this.crossMask) this.crossMask = rows.map((r) => this.crossMask![r].slice());
  }

  /** Frees every cached tensor and empties the cache. */
  dispose(): void {
    for (const entry of [...this.selfLayers, ...this.crossLayers])
      if (entry) dispose([entry.key, entry.value]);
    this.selfLayers.length = 0;
    this.crossLayers.length = 0;
    this.keyMask = [];
    this.nextPosition = [];
    this.crossMask = undefined;
  }
}

/** Buffers `[B, H, capacity, D]` shaped like `like`, holding the first `length` positions of `old`. */
function moved(old: Tensor | undefined, like: Tensor, length: number, capacity: number): Tensor {
  const [B, H, , D] = like.shape;
  return tidy(() =>
    noGrad(() => {
      const buffer = zeros([B, H, capacity, D], { dtype: like.dtype, backend: like.backend.name });
      if (old && length > 0) assign(narrow(buffer, 2, 0, length), narrow(old, 2, 0, length));
      return buffer;
    }),
  );
}
