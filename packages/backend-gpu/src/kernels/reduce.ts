// The `reduce` kernel: sum/prod/max/min/argmax/argmin over a set of axes, keep-dim output.
// Small reductions (<= 64 elements per output) run one invocation per output; larger ones one
// workgroup of 256 per output, each invocation striding over the reduced elements and a tree in
// workgroup memory combining the partial results.
import type { KernelAttributes, KernelTensor, ReduceOp } from '@llmkit/core-tensor/backend';
import type { GpuBuffer } from '../buffers.js';
import { WebGpuError } from '../errors.js';
import { type Runtime, grid } from '../runtime.js';
import { MATH_WGSL, PARAMS_WGSL, mergeDimensions, sizeOf } from '../wgsl.js';

const SERIAL_LIMIT = 64;

// Params: [outputs, keptRank, keptShape x6 @2, keptStrides x6 @8, reducedRank @14,
//          reducedShape x6 @15, reducedStrides x6 @21, reducedCount @27, offset @28]
const OFFSETS_WGSL = /* wgsl */ `
fn keptOffset(o: u32) -> u32 {
  var rest = o;
  var offset = p(28u);
  for (var d = i32(p(1u)) - 1; d >= 0; d--) {
    let size = p(2u + u32(d));
    offset += (rest % size) * p(8u + u32(d));
    rest = rest / size;
  }
  return offset;
}
fn reducedOffset(r: u32) -> u32 {
  var rest = r;
  var offset = 0u;
  for (var d = i32(p(14u)) - 1; d >= 0; d--) {
    let size = p(15u + u32(d));
    offset += (rest % size) * p(21u + u32(d));
    rest = rest / size;
  }
  return offset;
}
`;

function combineWgsl(op: ReduceOp, type: string): string {
  const float = type === 'f32';
  switch (op) {
    case 'sum':
      return 'fn combine(a: T, b: T) -> T { return a + b; }';
    case 'prod':
      return 'fn combine(a: T, b: T) -> T { return a * b; }';
    case 'max':
      return float
        ? 'fn combine(a: T, b: T) -> T { if (isNan(a)) { return a; } if (isNan(b)) { return b; } return max(a, b); }'
        : 'fn combine(a: T, b: T) -> T { return max(a, b); }';
    case 'min':
      return float
        ? 'fn combine(a: T, b: T) -> T { if (isNan(a)) { return a; } if (isNan(b)) { return b; } return min(a, b); }'
        : 'fn combine(a: T, b: T) -> T { return min(a, b); }';
    default: {
      // Arg reductions combine (value, index) pairs; index NONE marks an empty candidate.
      const better = op === 'argmax' ? 'a.v > b.v' : 'a.v < b.v';
      const worse = op === 'argmax' ? 'a.v < b.v' : 'a.v > b.v';
      const nan = float ? 'isNan' : 'noNan';
      return `
struct Pair { v: T, i: u32 }
fn noNan(x: T) -> bool { return false; }
fn first(a: Pair, b: Pair) -> Pair { if (a.i < b.i) { return a; } return b; }
fn combine(a: Pair, b: Pair) -> Pair {
  if (a.i == 0xffffffffu) { return b; }
  if (b.i == 0xffffffffu) { return a; }
  let an = ${nan}(a.v);
  let bn = ${nan}(b.v);
  if (an && bn) { return first(a, b); }
  if (an) { return a; }
  if (bn) { return b; }
  if (${better}) { return a; }
  if (${worse}) { return b; }
  return first(a, b);
}`;
    }
  }
}

function identity(op: ReduceOp, type: string): string {
  if (op === 'sum') return 'T(0)';
  if (op === 'prod') return 'T(1)';
  if (op === 'argmax' || op === 'argmin') return 'Pair(T(0), 0xffffffffu)';
  if (type === 'f32') return op === 'max' ? '-infinity()' : 'infinity()';
  return op === 'max' ? 'i32(-2147483647 - 1)' : 'i32(2147483647)';
}

function shader(op: ReduceOp, type: 'f32' | 'i32', load: string, serial: boolean): string {
  const arg = op === 'argmax' || op === 'argmin';
  const A = arg ? 'Pair' : 'T';
  const element = arg ? `Pair(${load}, r)` : load;
  const store = arg
    ? 'O[o] = select(acc.i, 0u, acc.i == 0xffffffffu);'
    : 'O[o] = bitcast<u32>(acc);';
  const head = `${PARAMS_WGSL}${MATH_WGSL}${OFFSETS_WGSL}
alias T = ${type};
${combineWgsl(op, type)}
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> O: array<u32>;
`;
  if (serial) {
    return `${head}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.y * nwg.x * 256u + gid.x;
  if (o >= p(0u)) { return; }
  let base = keptOffset(o);
  var acc: ${A} = ${identity(op, type)};
  for (var r = 0u; r < p(27u); r++) {
    acc = combine(acc, ${element.replaceAll('IDX', 'base + reducedOffset(r)')});
  }
  ${store}
}`;
  }
  return `${head}
var<workgroup> partial: array<${A}, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.y * nwg.x + wid.x;
  let inRange = o < p(0u);
  var acc: ${A} = ${identity(op, type)};
  if (inRange) {
    let base = keptOffset(o);
    for (var r = lid; r < p(27u); r += 256u) {
      acc = combine(acc, ${element.replaceAll('IDX', 'base + reducedOffset(r)')});
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var half = 128u; half > 0u; half >>= 1u) {
    if (lid < half) { partial[lid] = combine(partial[lid], partial[lid + half]); }
    workgroupBarrier();
  }
  if (inRange && lid == 0u) {
    acc = partial[0];
    ${store}
  }
}`;
}

/** Launches `reduce` (see the module comment for the two strategies). */
export function reduce(
  rt: Runtime,
  x: KernelTensor,
  out: KernelTensor,
  attrs: KernelAttributes,
): void {
  const op = attrs.op as ReduceOp;
  const axes = attrs.axes as readonly number[];
  if ((op === 'argmax' || op === 'argmin') && axes.length !== 1) {
    throw new WebGpuError('invalid_argument', `reduce: ${op} takes one axis, got [${axes}]`);
  }
  if (!['sum', 'prod', 'max', 'min', 'argmax', 'argmin'].includes(op)) {
    throw new WebGpuError('unsupported', `webgpu: unknown reduce op ${String(op)}`);
  }
  const outputs = sizeOf(out.shape);
  if (outputs === 0) return;
  const reduced = new Set(axes);
  const keptDims = x.shape.map((_, d) => d).filter((d) => !reduced.has(d));
  const reducedDims = [...axes];
  const kept = mergeDimensions(
    'reduce',
    keptDims.map((d) => x.shape[d]),
    [keptDims.map((d) => x.strides[d])],
  );
  const red = mergeDimensions(
    'reduce',
    reducedDims.map((d) => x.shape[d]),
    [reducedDims.map((d) => x.strides[d])],
  );
  const count = reducedDims.reduce((n, d) => n * x.shape[d], 1);
  const params = new Array<number>(29).fill(0);
  params[0] = outputs;
  params[1] = kept.shape.length;
  kept.shape.forEach((s, d) => {
    params[2 + d] = s;
    params[8 + d] = kept.strides[0][d];
  });
  params[14] = red.shape.length;
  red.shape.forEach((s, d) => {
    params[15 + d] = s;
    params[21 + d] = red.strides[0][d];
  });
  params[27] = count;
  params[28] = x.offset;
  const type = x.dtype === 'float32' ? 'f32' : 'i32';
  const load =
    x.dtype === 'float32'
      ? 'bitcast<f32>(X[IDX])'
      : x.dtype === 'int32'
        ? 'bitcast<i32>(X[IDX])'
        : 'i32(X[IDX])';
  const serial = count <= SERIAL_LIMIT;
  const outGpu = (out.buffer as GpuBuffer).gpu;
  rt.run({
    kernel: 'reduce',
    key: `reduce:${op}:${x.dtype}:${serial ? 'serial' : 'tree'}`,
    shader: () => shader(op, type, load, serial),
    buffers: [(x.buffer as GpuBuffer).gpu, outGpu],
    params,
    workgroups: serial ? grid(outputs) : grid(outputs, 1),
  });
}
