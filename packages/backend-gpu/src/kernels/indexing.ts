// gather, scatterAdd and embeddingBackward. Indices are validated on the GPU: a bad one lowers
// the runtime's failure flag to the launch's serial and the next read throws, naming the kernel
// and shapes. Accumulation into float32 uses a compare-and-swap loop (WGSL has integer atomics
// only), so the order of additions, and the last bits of a sum, may vary from run to run.
import type { KernelTensor } from '@llmkit/core-tensor/backend';
import { formatShape } from '@llmkit/utils';
import type { GpuBuffer } from '../buffers.js';
import { WebGpuError } from '../errors.js';
import { type Runtime, grid } from '../runtime.js';
import { ENTRY_256, MAX_RANK, PARAMS_WGSL, contiguousStrides, sizeOf } from '../wgsl.js';
import { loadWgsl, storageKey, storeWgsl } from './packed-wgsl.js';

const gpuOf = (t: KernelTensor) => (t.buffer as GpuBuffer).gpu;

// Params: [n, rank, shape x6 @2 (index's), indexStrides x6 @8, indexOffset @14,
//          targetStrides x6 @15, targetOffset @21, axis @22, limit @23, sourceStrides x6 @24,
//          sourceOffset @30], serial @63.
const ADDRESS_WGSL = /* wgsl */ `
struct Address { index: u32, into: u32, from_: u32, id: i32 }
fn address(flat: u32) -> Address {
  var rest = flat;
  var a = Address(p(14u), p(21u), p(30u), 0);
  var coords: array<u32, 6>;
  for (var d = i32(p(1u)) - 1; d >= 0; d--) {
    let size = p(2u + u32(d));
    coords[d] = rest % size;
    rest = rest / size;
    a.index += coords[d] * p(8u + u32(d));
    a.from_ += coords[d] * p(24u + u32(d));
  }
  a.id = bitcast<i32>(I[a.index]);
  for (var d = 0u; d < p(1u); d++) {
    let c = select(coords[d], u32(a.id), d == p(22u));
    a.into += c * p(15u + d);
  }
  return a;
}
fn validId(id: i32) -> bool {
  if (id >= 0 && u32(id) < p(23u)) { return true; }
  atomicMin(&FLAG[0], p(63u));
  atomicStore(&FLAG[1], bitcast<u32>(id));
  return false;
}
`;

// gather of a two-word dtype (float64, int64).
const WIDE_GATHER = `if (!validId(a.id)) { O[2u * id] = 0u; O[2u * id + 1u] = 0u; return; }
  O[2u * id] = X[2u * a.into]; O[2u * id + 1u] = X[2u * a.into + 1u];`;

const ATOMIC_ADD_WGSL = /* wgsl */ `
fn atomicAddF32(i: u32, v: f32) {
  var old = atomicLoad(&O[i]);
  loop {
    let r = atomicCompareExchangeWeak(&O[i], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
`;

function addressParams(
  kernel: string,
  index: KernelTensor,
  target: KernelTensor,
  axis: number,
  source?: KernelTensor,
): number[] {
  const rank = index.shape.length;
  if (rank > MAX_RANK) {
    throw new WebGpuError(
      'unsupported',
      `webgpu: ${kernel} on rank ${rank} (${formatShape(index.shape)}); at most ${MAX_RANK}`,
    );
  }
  const params = new Array<number>(31).fill(0);
  params[0] = sizeOf(index.shape);
  params[1] = rank;
  for (let d = 0; d < rank; d++) {
    params[2 + d] = index.shape[d];
    params[8 + d] = index.strides[d];
    params[15 + d] = target.strides[d];
    params[24 + d] = source ? source.strides[d] : 0;
  }
  params[14] = index.offset;
  params[21] = target.offset;
  params[22] = axis;
  params[23] = target.shape[axis] ?? 1;
  params[30] = source ? source.offset : 0;
  return params;
}

/** gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`. */
export function gather(
  rt: Runtime,
  x: KernelTensor,
  index: KernelTensor,
  out: KernelTensor,
  axis: number,
): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  // Out is contiguous with index's shape: its "source" strides double as the output position.
  const params = addressParams('gather', index, x, axis, {
    ...out,
    strides: contiguousStrides(out.shape),
    offset: 0,
  });
  const wide = x.dtype === 'float64' || x.dtype === 'int64';
  rt.run({
    kernel: 'gather',
    key: `gather:${storageKey(x.dtype)}`,
    shader: () => `${PARAMS_WGSL}
${loadWgsl('X', 1, x.dtype)}
@group(0) @binding(2) var<storage, read> I: array<u32>;
${storeWgsl('O', 3, x.dtype)}
@group(0) @binding(4) var<storage, read_write> FLAG: array<atomic<u32>>;
${ADDRESS_WGSL}
${ENTRY_256}
  if (id >= p(0u)) { return; }
  let a = address(id);
  ${wide ? WIDE_GATHER : 'if (!validId(a.id)) { store_O(id, 0u); return; }\n  store_O(id, load_X(a.into));'}
}`,
    buffers: [gpuOf(x), gpuOf(index), gpuOf(out)],
    params,
    workgroups: grid(n),
    describe: () =>
      `gather: x ${formatShape(x.shape)}, index ${formatShape(index.shape)}, axis ${axis}: indices must be in [0, ${x.shape[axis]})`,
  });
}

/** scatterAdd: out[..., index[..., j, ...], ...] += source[..., j, ...] along `axis`. */
export function scatterAdd(
  rt: Runtime,
  source: KernelTensor,
  index: KernelTensor,
  out: KernelTensor,
  axis: number,
): void {
  const n = sizeOf(index.shape);
  if (n === 0) return;
  if (out.dtype !== 'float32' && out.dtype !== 'int32') {
    throw new WebGpuError('unsupported', `webgpu: scatterAdd into ${out.dtype}`);
  }
  const params = addressParams('scatterAdd', index, out, axis, source);
  const float = out.dtype === 'float32';
  rt.run({
    kernel: 'scatterAdd',
    key: `scatterAdd:${out.dtype}`,
    shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> S: array<u32>;
@group(0) @binding(2) var<storage, read> I: array<u32>;
@group(0) @binding(3) var<storage, read_write> O: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> FLAG: array<atomic<u32>>;
${ADDRESS_WGSL}${float ? ATOMIC_ADD_WGSL : ''}
${ENTRY_256}
  if (id >= p(0u)) { return; }
  let a = address(id);
  if (!validId(a.id)) { return; }
  ${float ? 'atomicAddF32(a.into, bitcast<f32>(S[a.from_]));' : 'atomicAdd(&O[a.into], S[a.from_]);'}
}`,
    buffers: [gpuOf(source), gpuOf(index), gpuOf(out)],
    params,
    workgroups: grid(n),
    describe: () =>
      `scatterAdd: source ${formatShape(source.shape)}, index ${formatShape(index.shape)} into ${formatShape(out.shape)}, axis ${axis}: indices must be in [0, ${out.shape[axis]})`,
  });
}

/** embeddingBackward: gradWeight = 0, then gradWeight[ids[n]] += gradOutput[n]. */
export function embeddingBackward(
  rt: Runtime,
  ids: KernelTensor,
  gradOutput: KernelTensor,
  gradWeight: KernelTensor,
): void {
  const [V, C] = gradWeight.shape;
  const N = ids.shape[0];
  rt.run({
    kernel: 'embeddingBackward',
    key: 'embeddingBackward:zero',
    shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read_write> O: array<u32>;
${ENTRY_256}
  if (id < p(0u)) { O[id] = 0u; }
}`,
    buffers: [gpuOf(gradWeight)],
    params: [V * C],
    workgroups: grid(V * C),
  });
  if (N * C === 0) return;
  rt.run({
    kernel: 'embeddingBackward',
    key: 'embeddingBackward:add',
    shader: () => `${PARAMS_WGSL}
@group(0) @binding(1) var<storage, read> I: array<u32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> FLAG: array<atomic<u32>>;
${ATOMIC_ADD_WGSL}
fn validId(id: i32) -> bool {
  if (id >= 0 && u32(id) < p(3u)) { return true; }
  atomicMin(&FLAG[0], p(63u));
  atomicStore(&FLAG[1], bitcast<u32>(id));
  return false;
}
${ENTRY_256}
  // p: [N * C, C, idsOffset, V, gradOffset]
  if (id >= p(0u)) { return; }
  let n = id / p(1u);
  let c = id % p(1u);
  let word = bitcast<i32>(I[p(2u) + n]);
  if (!validId(word)) { return; }
  atomicAddF32(u32(word) * p(1u) + c, G[p(4u) + id]);
}`,
    buffers: [gpuOf(ids), gpuOf(gradOutput), gpuOf(gradWeight)],
    params: [N * C, C, ids.offset, V, gradOutput.offset],
    workgroups: grid(N * C),
    describe: () =>
      `embeddingBackward: ids [${N}] into gradWeight ${formatShape(gradWeight.shape)}: ids must be in [0, ${V})`,
  });
}
