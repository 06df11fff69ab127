// Token ids, padding masks, position ids and attention masks. Masks are built in JavaScript from
// per-row 0/1 lists (they are small: B * T * S bytes) and handed to attention as bool tensors.
import { causalMask, fromValues, logicalAnd, type Tensor } from '@llmkit/core-tensor';
import { TransformerError } from './errors.js';

/** Token ids per row: nested arrays, or an integer tensor `[B, T]` on any backend. */
export type TokenIds = readonly (readonly number[])[] | Tensor;

/**
 * A 0/1 mask per row (1 = real token, 0 = padding): nested arrays, or a tensor `[B, T]` on a backend
 * that reads synchronously (the mask decides positions and padding on the host; pass rows on WebGPU).
 */
export type PaddingMask = readonly (readonly number[])[] | Tensor;

/** Reads ids or a mask into rows of numbers, checking that it is a rectangular `[B, T]`. */
export function toRows(value: TokenIds, what: string): number[][] {
  let rows: number[][];
  if (Array.isArray(value)) {
    rows = (value as number[][]).map((row) => Array.from(row));
  } else {
    const t = value as Tensor;
    if (t.rank !== 2) {
      throw new TransformerError(
        'invalid_data',
        `${what} must be [batch, sequence], got shape [${t.shape}]`,
      );
    }
    if (!t.backend.readSync) {
      throw new TransformerError(
        'unsupported',
        `${what} is a tensor on backend '${t.backend.name}', which reads only asynchronously; pass it as rows (number[][], from await tensor.array())`,
      );
    }
    const flat = Array.from(t.dataSync<Int32Array>(), Number);
    const [B, T] = t.shape;
    rows = Array.from({ length: B }, (_, b) => flat.slice(b * T, (b + 1) * T));
  }
  if (rows.length === 0 || rows[0].length === 0) {
    throw new TransformerError('invalid_data', `${what} must have at least one row and one column`);
  }
  const T = rows[0].length;
  rows.forEach((row, b) => {
    if (row.length !== T) {
      throw new TransformerError(
        'invalid_data',
        `${what} rows must have equal lengths (pad them and pass an attentionMask): row ${b} has ${row.length}, row 0 has ${T}`,
      );
    }
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0) {
        throw new TransformerError(
          'invalid_data',
          `${what} row ${b} holds ${id}; expected non-negative integers`,
        );
      }
    }
  });
  return rows;
}

/** Checks ids against the vocabulary and returns them as an int32 tensor `[B, T]`. */
export function idTensor(
  rows: readonly (readonly number[])[],
  vocabSize: number,
  like?: Tensor,
): Tensor {
  const B = rows.length;
  const T = rows[0].length;
  const flat = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const id = rows[b][t];
      if (id >= vocabSize) {
        throw new TransformerError(
          'invalid_data',
          `token id ${id} at [${b}, ${t}] is outside the vocabulary of ${vocabSize}`,
        );
      }
      flat[b * T + t] = id;
    }
  }
  return fromValues(flat, [B, T], { dtype: 'int32', backend: like?.backend.name });
}

/**
 * Token ids `[B, T]` as a forward pass takes them: rows checked on the host, or a tensor left on
 * its device. A tensor is read back (and then checked like rows) only where its backend reads
 * synchronously; elsewhere (WebGPU) it is used as it is, its shape checked but not its values.
 */
export type TokenBatch =
  | { readonly shape: readonly [number, number]; readonly rows: number[][] }
  | { readonly shape: readonly [number, number]; readonly tensor: Tensor; readonly what: string };

/**
 * Reads `value` into a {@link TokenBatch}, without a read back where the backend cannot read
 * synchronously.
 *
 * @example
 * ```ts
 * readTokenIds([[5, 6, 7]], 'inputIds').shape; // [1, 3]
 * ```
 */
export function readTokenIds(value: TokenIds, what: string): TokenBatch {
  if (Array.isArray(value) || (value as Tensor).backend.readSync) {
    const rows = toRows(value, what);
    return { shape: [rows.length, rows[0].length], rows };
  }
  const tensor = value as Tensor;
  if (tensor.rank !== 2 || tensor.size === 0) {
    throw new TransformerError(
      'invalid_data',
      `${what} must be a non-empty [batch, sequence], got shape [${tensor.shape}]`,
    );
  }
  if (tensor.dtype === 'bool' || tensor.dtype === 'float16' || tensor.dtype === 'bfloat16') {
    throw new TransformerError(
      'invalid_data',
      `${what} must hold integer ids (int32 preferred), got a ${tensor.dtype} tensor`,
    );
  }
  return { shape: [tensor.shape[0], tensor.shape[1]], tensor, what };
}

/** The ids of `batch` as an int32 tensor `[B, T]` on `like`'s backend (see {@link idTensor}). */
export function tokenTensor(batch: TokenBatch, vocabSize: number, like: Tensor): Tensor {
  if ('rows' in batch) return idTensor(batch.rows, vocabSize, like);
  const { tensor, what } = batch;
  if (tensor.backend !== like.backend) {
    throw new TransformerError(
      'invalid_data',
      `${what} is on backend '${tensor.backend.name}' but the model is on '${like.backend.name}'; move it with await ${what}.toBackend('${like.backend.name}')`,
    );
  }
  return tensor.dtype === 'int32' ? tensor.detach() : tensor.to('int32');
}

/** A padding mask of ones (no padding) for `[B, T]`. */
export function noPadding([B, T]: readonly [number, number]): number[][] {
  return Array.from({ length: B }, () => new Array<number>(T).fill(1));
}

/**
 * Pads rows of different lengths to one length, on the left (for generation: every row's last
 * token sits in the last column) or on the right (for training and encoders).
 *
 * @example
 * ```ts
 * padRows([[5, 6, 7], [8]], 'left'); // { ids: [[5,6,7],[0,0,8]], mask: [[1,1,1],[0,0,1]] }
 * ```
 */
export function padRows(
  rows: readonly (readonly number[])[],
  side: 'left' | 'right',
  padId = 0,
): { ids: number[][]; mask: number[][] } {
  const T = Math.max(...rows.map((row) => row.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (const row of rows) {
    const pad = new Array<number>(T - row.length).fill(padId);
    const zeros = new Array<number>(T - row.length).fill(0);
    const ones = new Array<number>(row.length).fill(1);
    ids.push(side === 'left' ? [...pad, ...row] : [...row, ...pad]);
    mask.push(side === 'left' ? [...zeros, ...ones] : [...ones, ...zeros]);
  }
  return { ids, mask };
}

/** True when some entry of the mask rows is 0. */
export function hasPadding(mask: readonly (readonly number[])[]): boolean {
  return mask.some((row) => row.some((m) => m === 0));
}

/**
 * Position ids `[B, T]` that count only real tokens, as Hugging Face derives them from the
 * attention mask: row b's t-th column gets `start[b] + (real tokens in columns 0..t) - 1`,
 * clamped at 0 for leading padding.
 *
 * @example
 * ```ts
 * positionIds([[0, 0, 1, 1]], [0]); // [[0, 0, 0, 1]]
 * ```
 */
export function positionIds(
  mask: readonly (readonly number[])[],
  start: readonly number[],
): number[][] {
  return mask.map((row, b) => {
    let count = start[b];
    return row.map((m) => {
      count += m ? 1 : 0;
      return Math.max(0, count - 1);
    });
  });
}

/**
 * The attention mask `[B, 1, T, S]` (bool, true = attend) for T queries over S keys whose
 * padding is `keyMask` (B rows of S). Causal masks align queries to the end (query t is key
 * position t + S - T, as with a KV cache): core-tensor's `causalMask`. With `keepSelf`, each
 * query also sees its own key even when that key is padding, so a padded row never has every
 * score at -inf (its output is unused).
 */
export function attentionMask(
  keyMask: readonly (readonly number[])[],
  queryLength: number,
  options: { causal: boolean; keepSelf: boolean; like: Tensor },
): Tensor {
  const B = keyMask.length;
  const S = keyMask[0].length;
  const T = queryLength;
  const backend = options.like.backend.name;
  const keep = new Uint8Array(B * T * S);
  for (let b = 0; b < B; b++) {
    const row = keyMask[b];
    for (let t = 0; t < T; t++) {
      const self = t + S - T;
      const base = (b * T + t) * S;
      for (let s = 0; s < S; s++)
        keep[base + s] = row[s] || (options.keepSelf && s === self) ? 1 : 0;
    }
  }
  const padding = fromValues(keep, [B, 1, T, S], { dtype: 'bool', backend });
  if (!options.causal) return padding;
  const causal = causalMask(T, S, { backend });
  const mask = logicalAnd(padding, causal);
  padding.dispose();
  causal.dispose();
  return mask;
}
