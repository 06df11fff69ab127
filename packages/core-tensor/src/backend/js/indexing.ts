// gather and scatterAdd: torch.gather and its inverse along one axis.
import { TensorError } from '../../errors.js';
import type { KernelAttributes, KernelTensor } from '../types.js';
import { dataOf } from './buffer.js';
import { elementOffsets } from './strided.js';

type Numbers = { [i: number]: number; length: number };

/**
 * Walks every element of `index` (row-major) and yields the offset of the element of `target`
 * that it addresses: target's multi-index is index's, with the axis coordinate replaced by the
 * index value.
 */
function addressed(
  name: string,
  target: KernelTensor,
  index: KernelTensor,
  axis: number,
  body: (k: number, targetOffset: number) => void,
): void {
  const ids = dataOf(index) as Int32Array;
  const idOffsets = elementOffsets(index, 0);
  const rank = index.shape.length;
  const position = new Array<number>(rank).fill(0);
  const limit = target.shape[axis];
  for (let k = 0; k < idOffsets.length; k++) {
    const id = ids[idOffsets[k]];
    if (!(id >= 0 && id < limit)) {
      throw new TensorError(
        'invalid_argument',
        `${name}: index ${id} is out of range [0, ${limit}) on axis ${axis}`,
      );
    }
    let o = target.offset;
    for (let d = 0; d < rank; d++) o += (d === axis ? id : position[d]) * target.strides[d];
    body(k, o);
    for (let d = rank - 1; d >= 0; d--) {
      position[d]++;
      if (position[d] < index.shape[d]) break;
      position[d] = 0;
    }
  }
}

export function gather(
  [x, index]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const src = dataOf(x) as Numbers;
  const dst = dataOf(out) as Numbers;
  addressed('gather', x, index, attrs.axis as number, (k, o) => {
    dst[k] = src[o];
  });
}

export function scatterAdd(
  [source, index]: readonly KernelTensor[],
  [out]: readonly KernelTensor[],
  attrs: KernelAttributes,
): void {
  const src = dataOf(source) as Numbers;
  const dst = dataOf(out) as Numbers;
  const srcOffsets = elementOffsets(source, 1);
  addressed('scatterAdd', out, index, attrs.axis as number, (k, o) => {
    dst[o] += src[srcOffsets[k]];
  });
}
