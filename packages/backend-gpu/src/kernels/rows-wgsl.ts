// Workgroup reductions shared by the row kernels (softmax, layerNorm, cross-entropy, attention),
// emitted inline into the entry point. Three workarounds for Mesa's llvmpipe (the OpenGL ES path
// Dawn uses without a GPU), each found by a failing kernel test:
// - no WGSL helper functions with barriers: GLSL ES allows barrier() only in main, and a barrier
//   in a called function does not synchronise (workgroupUniformLoad is lowered to one, so it is
//   avoided too, and reduced values must not steer control flow);
// - each reduction of a kernel has its own workgroup buffer: the load of the result may be sunk
//   past the next barrier, so a later reduction reusing the buffer would overwrite it first;
// - the tree is unrolled rather than looped.

/** Workgroup memory for `count` reductions of a workgroup of `size` invocations, plus maxNan. */
export function scratchWgsl(count: number, size = 256): string {
  const buffers = Array.from(
    { length: count },
    (_, i) => `var<workgroup> scratch${i}: array<f32, ${size}>;`,
  );
  return `${buffers.join('\n')}
fn maxNan(a: f32, b: f32) -> f32 {
  if (isNan(a)) { return a; }
  if (isNan(b)) { return b; }
  return max(a, b);
}
`;
}

/**
 * WGSL statements declaring `let result` = the sum or NaN-propagating max of `value` over the
 * workgroup (`lid` is the local index), using buffer `scratch<slot>`. Every invocation must reach
 * them (they contain barriers). Example: `workgroupReduce('sum', 's', 'total', 0)` ends with
 * `let total = scratch0[0];`.
 */
export function workgroupReduce(
  op: 'sum' | 'max',
  value: string,
  result: string,
  slot: number,
  size = 256,
): string {
  const buffer = `scratch${slot}`;
  const steps: string[] = [];
  for (let h = size / 2; h >= 1; h /= 2) {
    const combine =
      op === 'sum'
        ? `${buffer}[lid] + ${buffer}[lid + ${h}u]`
        : `maxNan(${buffer}[lid], ${buffer}[lid + ${h}u])`;
    steps.push(`if (lid < ${h}u) { ${buffer}[lid] = ${combine}; }\n  workgroupBarrier();`);
  }
  return `${buffer}[lid] = ${value};
  workgroupBarrier();
  ${steps.join('\n  ')}
  let ${result} = ${buffer}[0];`;
}

/** Entry point of a row kernel: one workgroup of 256 per row, `row` from the 2-D grid. */
export const ROW_ENTRY = /* wgsl */ `
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p(0u)) { return; }
`;
